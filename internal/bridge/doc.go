// Package bridge is the HTTP/2 entry of the mesh: the gateway posts JSON to
// /v1/call/{service}/{path...} and the bridge forwards it, byte for byte, as
// a request-reply on the service's NATS subject through pkg/rpc, on behalf of
// the caller its Config.Caller names (the identity of the client
// certificate, which the matrix must let the bridge act for). It also lists
// services from micro discovery, streams license PDFs from the JetStream
// object store and answers health probes. Every request is checked before
// anything is published, and every error is a JSON body
// {"error":{"code","message","trace_id"}} with the HTTP status of its code.
package bridge
