// Package ui is the mesh's live page: Handler serves /ui, plain HTML, CSS
// and JavaScript embedded in the binary (no build step, no external URL),
// which shows the services with their instances and breaker states and
// draws every call live, one waterfall per trace. The page reads four JSON
// endpoints that the bridge serves; SSE, NewTrace and ParseSince help it
// serve them. The contracts, all on the same origin as /ui:
//
// GET /v1/services — the bridge's discovery:
//
//	{"services":[{"name":"fee-calc","versions":["1.0.0"],
//	  "instances":[{"id":"...","name":"fee-calc-1","version":"1.0.0"}],
//	  "endpoints":[{"name":"calculate","subject":"svc.fee-calc.calculate","path":"/calculate"}]}]}
//
// GET /v1/breakers — the state of the bridge's circuit breaker per service
// ("closed", "half-open" or "open"; a service absent is closed), as Breakers:
//
//	{"breakers":{"fee-calc":"closed","payment":"open"}}
//
// GET /v1/traces/live[?since=5m] — a text/event-stream (Server-Sent
// Events): each message's data is one trace event as JSON, in the format
// pkg/trace documents; lines starting with ":" are heartbeats; a failure
// ends the stream with an "error" event whose data is
// {"error":{"code":503,"message":"..."}}. since (a Go duration back from
// now, or an RFC 3339 time) replays the events stored from then on before
// the live ones; without it only new events come. The page asks for the
// last five minutes (the page's own ?since= overrides it), keeps the newest
// 500 traces, and drops events it has already seen on a reconnect.
//
// GET /v1/traces/{trace_id} — one trace, as Trace: its events in causal
// order and its Mermaid sequence diagram:
//
//	{"trace_id":"4bf9...","events":[event, ...],"mermaid":"sequenceDiagram\n..."}
//
// and the bridge's error body, {"error":{"code":404,"message":"...","trace_id":"..."}},
// when it cannot be had.
package ui
