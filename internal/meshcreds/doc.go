// Package meshcreds turns a credentials folder (`.mesh/`, written by
// `meshctl init`) into what a process of the mesh needs to connect: NATS
// options with the identity's client certificate, the CA and its NKey; the
// TLS config of the bridge's HTTPS listener (client certificates required)
// and of an HTTPS client such as the gateway.
//
// Every function names the missing or unreadable file in its error, and
// never a secret.
package meshcreds
