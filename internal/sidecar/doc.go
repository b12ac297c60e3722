// Package sidecar joins an app written in any language to the mesh as one
// identity, on this machine. Inbound, it serves the identity's endpoints on
// NATS with the whole booth stack (the call token check, exactly-once
// answers, deadline, tracing, metrics) and forwards each call to the app as
// an HTTP POST on loopback, passing the request id, the caller, the
// remaining deadline and the trace context as headers, and mapping the
// app's answer to the mesh's codes. Outbound, it serves the bridge's call
// API (POST /v1/call/{service}/{path...}) on loopback or a unix socket, to
// callers that present its API token, so that the app calls other booths as
// its identity with retries, the breaker, deadlines and tracing; an app's
// outbound call that sends the traceparent it received continues the
// inbound call's trace.
//
// booth-runner --sidecar runs it; cmd/booth-runner parses the flags.
package sidecar
