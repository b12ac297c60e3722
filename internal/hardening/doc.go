// Package hardening holds the tests that attack the secure bridge the way a
// hostile client would: a battery of malformed requests, slowloris
// connections, HTTP/2 rapid reset and stream or header floods, and fuzzing
// of a request's path, headers and body. They run the real bridge over HTTPS
// with HTTP/2 and client certificates, in front of an embedded NATS server
// with the mesh's authorization, and measure goroutines, heap and the
// latency of legitimate calls while under attack. The package's non-test
// code is the instrumentation those tests share: a NATS identity that may
// watch every subject, and a sampler of the process's goroutines and heap.
package hardening
