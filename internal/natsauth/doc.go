// Package natsauth turns the Access & Authorization Matrix into the NATS
// server's authorization: every identity is an NKey user that may subscribe
// only to its own request subjects (in its queue group) and its own inbox,
// publish only to the calls the matrix grants, its own trace subject and the
// JetStream API that binds, reads and appends to the stores it is granted,
// and answer only through allow_responses. Only a provisioner may create or
// update a store; nobody may purge or delete one or delete a message. There
// is no anonymous user, and TLS with client certificates is required.
//
// Apply configures an embedded server and also binds each connection's
// client certificate to its NKey (the certificate's identity must be the
// NKey's). Config renders the same authorization as a NATS config file for
// an external server or cluster; a NATS config cannot express that binding,
// so there the NKey alone is the identity and the certificate only proves
// membership of the mesh.
//
// Live is Apply kept in step with the credentials folder while the
// embedded server runs: rotated keys and CAs, revoked identities.
package natsauth
