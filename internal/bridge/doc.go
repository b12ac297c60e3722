// Package bridge is the HTTP/2 entry of the mesh: the gateway posts JSON to
// /v1/call/{service}/{path...} and the bridge forwards it, byte for byte, as
// a request-reply on the service's NATS subject through pkg/rpc, on behalf of
// the caller its Config.Caller names (the identity of the client
// certificate, which the matrix must let the bridge act for). Each call is
// a server span of the bridge in the caller's W3C trace, parent of the
// attempts it makes, and its trace id is in the Svc-Trace-Id header and in
// every error body {"error":{"code","message","trace_id"}}. It also lists
// services from micro discovery, streams license PDFs from the JetStream
// object store, answers health probes and serves monitoring: the live page
// (/ui), breakers, the trace stream and lookup, and Prometheus /metrics,
// also on a loopback-only listener without authentication (ServeMonitor).
package bridge
