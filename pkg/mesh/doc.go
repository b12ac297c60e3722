// Package mesh is how a Go program joins the HMS-SVC mesh: one call,
// Connect, with an identity, its credentials, the Access & Authorization
// Matrix and the NATS URLs, gives back a Mesh whose Client calls other
// booths and whose NewBooth serves this identity's endpoints, each with the
// whole stack in its one order: mTLS and the identity's NKey on the NATS
// connection, a signed call token on every attempt and its check in the
// booth, retries within a budget, a circuit breaker per service,
// deadlines, exactly-once endpoints, tracing on svc.trace.<identity> and
// Prometheus metrics. Close drains it all.
//
// Every input can come from HMS_* environment variables (ConfigFromEnv),
// and credentials from a `meshctl init` folder, from files anywhere, or
// from PEM bytes. A missing or bad input is an error that names it; there
// is no anonymous fallback, only InsecureNoCredentials for tests.
//
// Credentials change without a restart: a Mesh checks its files every
// second and reloads what `meshctl rotate` and `meshctl revoke` write (or
// Reload does it at once), keeping its live connection.
package mesh
