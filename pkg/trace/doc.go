// Package trace records every hop of every call in the mesh and reads the
// records back. ClientMiddleware and ServerMiddleware propagate W3C Trace
// Context (traceparent, tracestate) in NATS headers and emit one event per
// caller attempt and per booth handling, so a booth that calls another
// continues the trace through its ctx alone; StartSpan records a hop by hand
// (the bridge). A Publisher batches events onto the JetStream stream
// SVC_TRACE without ever blocking the call path, and Follow, Get, CausalOrder
// and Mermaid read them for monitoring.
//
// # Wire format
//
// Events of the identity S are published on svc.trace.S (S is the emitter:
// the booth for its handling and for the calls it makes, "bridge" for the
// bridge), so NATS permissions can let S publish on svc.trace.S only. Each
// message is one JSON batch, {"v":1,"events":[event, ...]}, with headers
// Nats-Msg-Id (deduplicates a retried batch) and Svc-Trace-Ids (the distinct
// trace ids of the batch, comma-separated). An event is a JSON object:
//
//	field           type    meaning
//	trace_id        string  32 lowercase hex digits, W3C trace id
//	span_id         string  16 lowercase hex digits, this hop's span
//	parent_span_id  string  16 hex digits, the span that caused this one; absent for a root
//	kind            string  "client" (a caller's attempt) or "server" (a booth's handling)
//	caller          string  calling identity ("gateway", "fee-calc"); may be absent
//	service         string  callee service ("fee-calc", "bridge")
//	path            string  callee path ("/calculate")
//	request_id      string  Svc-Request-Id, the same on every retry; may be absent
//	attempt         number  the caller's attempt, 1-based
//	start           string  RFC 3339 with nanoseconds, UTC
//	stop            string  RFC 3339 with nanoseconds, UTC
//	duration_us     number  stop - start in microseconds (monotonic clock)
//	code            number  0 for success, else the error code (400..599, HTTP-like)
//	error           string  error message, redacted (never a body, token or SSN); absent on success
//	instance        string  booth instance or process that emitted it; may be absent
//
// Readers should ignore fields they do not know. The subject proves who
// published a batch, not what its events say, so Follow and Get serve only
// the events their emitter may have made (MayEmit): a server span of its
// own service, or a client span with itself as the caller. The others are
// withheld, and counted and logged by a Screen (WithScreen). A server span's parent is
// the client span of the attempt that delivered the request; a client
// span's parent is the server span of the handler that made the call (or
// the bridge's span). Get finds a trace by scanning message headers from the
// trace's start: see Get for its cost.
package trace
