// Package revocation is the mesh's revocation list: the identities whose
// connections the NATS server refuses and whose call tokens every booth
// refuses. The list is a JWT signed (EdDSA) by the operator's NKey, which
// no booth holds, so no booth can forge or edit it; each list carries a
// sequence number one higher than the list it replaces, so a process that
// has applied a list refuses an older one put back in its place.
//
// It is published as a file in the credentials folder ("revoked.jwt"),
// beside the public keys every process already reads and watches.
package revocation
