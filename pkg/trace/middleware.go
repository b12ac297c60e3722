package trace

import (
	"context"
	"crypto/sha256"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Emitter takes finished hops. Emit must return at once and never fail
// the call: *Publisher is the Emitter of the mesh.
type Emitter interface {
	Emit(Event)
}

// ClientMiddleware traces a caller's attempts; install it with
// rpc.WithAttemptMiddleware so it runs once per attempt. Each attempt gets a
// new span whose parent is the span in ctx (see ContextWithSpan; a booth's
// handler ctx has one). Without a span in ctx the call starts a trace whose
// id is derived from its request id, so every retry of it shares the trace.
// The attempt's traceparent and tracestate are set on the request, and a
// KindClient event goes to pub when the attempt ends. caller names the
// calling identity; pub may be nil to propagate the context without
// recording.
func ClientMiddleware(pub Emitter, caller string) rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			start := time.Now()
			parent, hasParent := SpanFromContext(ctx)
			hasParent = hasParent && parent.IsValid()
			sc := SpanContext{SpanID: newSpanID(), Flags: FlagSampled}
			if hasParent {
				sc.TraceID, sc.Flags, sc.State = parent.TraceID, parent.Flags, parent.State
			} else {
				sc.TraceID = rootTraceID(req.Header.Get(rpc.HeaderRequestID), start)
			}
			req.Header.Set(rpc.HeaderTraceparent, sc.Traceparent())
			if sc.State != "" {
				req.Header.Set(rpc.HeaderTracestate, sc.State)
			} else {
				req.Header.Del(rpc.HeaderTracestate)
			}
			res, err := next(ctx, req)
			if pub == nil {
				return res, err
			}
			ev := Event{
				TraceID: sc.TraceID, SpanID: sc.SpanID, Kind: KindClient,
				Caller: caller, Service: req.Service, Path: req.Path,
				RequestID: req.Header.Get(rpc.HeaderRequestID),
				Attempt:   attemptOf(req.Header.Get(rpc.HeaderAttempt)),
			}
			if hasParent {
				ev.ParentSpanID = parent.SpanID
			}
			if ev.Caller == "" {
				ev.Caller = req.Header.Get(rpc.HeaderCaller)
			}
			stamp(&ev, start, time.Now(), err)
			pub.Emit(ev)
			return res, err
		}
	}
}

// ServerMiddleware traces a booth's handling of each request; install it
// with rpc.WithBoothMiddleware. It reads the caller's traceparent (when it is
// absent or invalid a new trace starts; the call is never refused for it),
// makes a span whose parent is the caller's, puts it in the handler's ctx so
// that calls the handler makes through a Client with ClientMiddleware
// continue the trace, and sends a KindServer event with the result's code to
// pub when the handler returns or panics. instance names this booth
// instance (e.g. its micro service id or host:pid).
func ServerMiddleware(pub Emitter, instance string) rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (res *rpc.Message, err error) {
			start := time.Now()
			parent, hasParent := spanFromHeaders(req.Header.Get(rpc.HeaderTraceparent), req.Header.Get(rpc.HeaderTracestate))
			sc := SpanContext{SpanID: newSpanID(), Flags: FlagSampled}
			if hasParent {
				sc.TraceID, sc.Flags, sc.State = parent.TraceID, parent.Flags, parent.State
			} else {
				sc.TraceID = newTraceID(start)
			}
			if pub == nil {
				return next(ContextWithSpan(ctx, sc), req)
			}
			returned := false
			defer func() {
				ev := Event{
					TraceID: sc.TraceID, SpanID: sc.SpanID, Kind: KindServer,
					Service: req.Service, Path: req.Path, Instance: instance,
					RequestID: req.Header.Get(rpc.HeaderRequestID),
				}
				if hasParent {
					ev.ParentSpanID = parent.SpanID
				}
				if ci, ok := rpc.CallInfoFromContext(ctx); ok {
					ev.Caller, ev.Attempt = ci.Caller, ci.Attempt
				} else {
					ev.Caller = req.Header.Get(rpc.HeaderCaller)
					ev.Attempt = attemptOf(req.Header.Get(rpc.HeaderAttempt))
				}
				stop := time.Now()
				switch {
				case !returned: // the handler panicked; the booth answers 500
					stamp(&ev, start, stop, nil)
					ev.Code, ev.Error = rpc.CodeInternal, "internal error in "+req.Service+" "+req.Path
				default:
					stamp(&ev, start, stop, err)
					if ev.Code == rpc.CodeCanceled { // what the booth answers
						ev.Code = rpc.CodeDeadlineExceeded
					}
				}
				pub.Emit(ev)
			}()
			res, err = next(ContextWithSpan(ctx, sc), req)
			returned = true
			return res, err
		}
	}
}

// attemptOf reads the Svc-Attempt header; absent or unreadable is 1.
func attemptOf(v string) int {
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// rootTraceID is the trace id of a call made with no span in ctx: the
// request id's 16 bytes when it is a UUID (else a hash of it), so that
// every retry of the call, each a separate attempt, shares one trace. A call
// with no request id gets a fresh id.
func rootTraceID(requestID string, now time.Time) TraceID {
	if requestID == "" {
		return newTraceID(now)
	}
	if u, err := uuid.Parse(requestID); err == nil && u != uuid.Nil {
		return TraceID(u)
	}
	sum := sha256.Sum256([]byte(requestID))
	return TraceID(sum[:16])
}
