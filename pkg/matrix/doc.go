// Package matrix reads the Access & Authorization Matrix: the file that
// names every identity of the mesh (booths, gateways, the bridge, and
// operators' tools, which call nothing), which services and paths each may
// call, whom the bridge may act for, and which JetStream stores each may
// use. Everything it does not grant is denied.
//
// The same Matrix drives both layers of enforcement: the NATS server's
// subject permissions (internal/natsauth) and the booths' check of every
// call's token (pkg/rpc). Public NKeys come from the file ("nkey:") or from a
// credentials folder (LoadKeys reads "<dir>/<identity>.pub").
package matrix
