// Package pki makes and keeps the mesh's credentials: an internal certificate
// authority, a server certificate for NATS and the bridge, a route
// certificate for NATS clusters, and for every identity a client certificate
// and an NKey.
//
// Init writes them as PEM and seed files in one folder (`.mesh/` by default)
// with secrets readable by their owner only, keeps whatever already exists
// unless asked to rotate, and adds what is missing. A client certificate
// names its identity twice: in its Common Name and in a URI SAN
// "spiffe://hms-svc/<identity>", which IdentityOf reads back. It also
// makes the operator's NKey, which signs the revocation list.
//
// Rotate and RotateCA replace keys and the CA while the mesh runs: each
// first publishes what will be trusted (new public NKeys in overlap.json, a
// new CA in the ca.pem trust bundle), waits for the running processes to
// take it up, then switches to it.
package pki
