// Package jaegertest runs a real Jaeger v2 (all-in-one: an OTLP/HTTP
// receiver, in-memory storage and the query API) for tests, and reads
// traces back from its query API. The binary is built from the Go module
// proxy by .ci/run (see Path); Start skips the test where it is absent,
// except in CI, where it fails. Jaeger listens on free loopback ports
// only, with a config this package writes.
package jaegertest
