package bridge

import (
	"net/http"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// HeaderTraceID is the response header naming the trace a request belongs
// to: the trace id of the caller's traceparent when it sent a valid one,
// else a new one.
const HeaderTraceID = "Svc-Trace-Id"

// startSpan starts the bridge's server span of a call request, the child of
// the caller's W3C traceparent (a malformed one is dropped, as the W3C
// specification says, and a new trace starts), names its trace in the
// response header and returns the request with the span in its context, so
// that the calls made with it continue the trace and its errors name it.
// pub (the member tracer, for a call) records the span when it ends.
func (b *Bridge) startSpan(w http.ResponseWriter, r *http.Request, pub trace.Emitter, caller, requestID string) (*http.Request, *trace.Span) {
	ctx, span := trace.StartSpan(r.Context(), pub, trace.Hop{
		Kind: trace.KindServer, Caller: caller, Service: b.identity,
		Path: r.URL.EscapedPath(), RequestID: requestID,
		Traceparent: r.Header.Get(rpc.HeaderTraceparent),
		Tracestate:  r.Header.Get(rpc.HeaderTracestate),
	})
	w.Header().Set(HeaderTraceID, span.TraceID().String())
	return r.WithContext(ctx), span
}

// withTraceID gives a request that records no span (anything but a call:
// listings, licenses, monitoring) the trace context of its traceparent, or
// a new one, so that its errors name a trace id as every bridge error does.
func (b *Bridge) withTraceID(w http.ResponseWriter, r *http.Request) *http.Request {
	r, _ = b.startSpan(w, r, nil, "", "")
	return r
}

// traceIDOf returns the trace id of the request's span, or "".
func traceIDOf(r *http.Request) string {
	if sc, ok := trace.SpanFromContext(r.Context()); ok && sc.IsValid() {
		return sc.TraceID.String()
	}
	return ""
}
