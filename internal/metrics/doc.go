// Package metrics exposes a process's calls in the Prometheus text format:
// requests by service, path and code, latency histograms, retries and
// in-flight calls on both sides of the mesh (rpc middlewares), circuit
// breaker state changes and current states, and the trace publisher's
// published, dropped and pending events. Each process makes one Metrics,
// which owns a registry of its own (never the global default), and serves it
// with Handler on /metrics.
//
// Every metric is named hms_svc_*, with its unit (_seconds) or _total in the
// name and a HELP text. The code label is "ok" for success and the rpc.Code
// number otherwise ("404", "503"). Client-side label sets are capped (see
// WithMaxRoutes): calls to more distinct service and path pairs than that
// are counted under service and path "_other", so a caller naming random
// paths cannot grow the registry without bound.
package metrics
