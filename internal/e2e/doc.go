// Package e2e holds the end-to-end tests of the secure mesh as `make run`
// wires it: the broker-bridge process's app (HTTPS with HTTP/2 and client
// certificates, its embedded NATS with the matrix's authorization, its
// loopback monitoring listener) and the demo booths run as booth-runner
// runs them, each on its own identity's credentials, traced, measured and
// checking every call's token. Avery's license goes through it as the
// gateway would send it, its trace and metrics are read back, and the
// bridge's refusals are tried against it. It has no code of its own besides
// this comment.
package e2e
