package trace

import (
	"context"
	"sync/atomic"
	"time"
)

// Hop describes a hop recorded by hand with StartSpan, such as the bridge's
// handling of an HTTP request.
type Hop struct {
	// Kind defaults to KindServer.
	Kind Kind
	// Caller, Service, Path, RequestID, Attempt and Instance are copied into
	// the event (Attempt defaults to 1).
	Caller, Service, Path, RequestID, Instance string
	Attempt                                    int
	// Traceparent and Tracestate are the W3C headers received, if any. A
	// valid Traceparent is the span's parent; when it is empty or invalid the
	// span in ctx is, and without one a new trace starts.
	Traceparent, Tracestate string
}

// Span is a hop in progress, recorded by hand. End it exactly once.
type Span struct {
	pub   Emitter
	ev    Event
	sc    SpanContext
	start time.Time
	ended atomic.Bool
}

// StartSpan starts recording hop and returns a ctx carrying the new span, so
// that calls made with it (through a Client with ClientMiddleware) are its
// children. pub may be nil: the span then propagates without recording.
func StartSpan(ctx context.Context, pub Emitter, hop Hop) (context.Context, *Span) {
	start := time.Now()
	parent, ok := spanFromHeaders(hop.Traceparent, hop.Tracestate)
	if !ok {
		parent, ok = SpanFromContext(ctx)
		ok = ok && parent.IsValid()
	}
	s := &Span{pub: pub, start: start, sc: SpanContext{SpanID: newSpanID(), Flags: FlagSampled}}
	if ok {
		s.sc.TraceID, s.sc.Flags, s.sc.State = parent.TraceID, parent.Flags, parent.State
		s.ev.ParentSpanID = parent.SpanID
	} else {
		s.sc.TraceID = newTraceID(start)
	}
	if hop.Kind == "" {
		hop.Kind = KindServer
	}
	if hop.Attempt == 0 {
		hop.Attempt = 1
	}
	s.ev.TraceID, s.ev.SpanID, s.ev.Kind = s.sc.TraceID, s.sc.SpanID, hop.Kind
	s.ev.Caller, s.ev.Service, s.ev.Path = hop.Caller, hop.Service, hop.Path
	s.ev.RequestID, s.ev.Instance, s.ev.Attempt = hop.RequestID, hop.Instance, hop.Attempt
	return ContextWithSpan(ctx, s.sc), s
}

// Context returns the span's context; its Traceparent() is what to send on.
func (s *Span) Context() SpanContext { return s.sc }

// TraceID returns the id of the span's trace, for a response header or an
// error body.
func (s *Span) TraceID() TraceID { return s.sc.TraceID }

// End records the hop with err's code (nil is success) and sends it. Later
// calls do nothing.
func (s *Span) End(err error) {
	if s.ended.Swap(true) || s.pub == nil {
		return
	}
	ev := s.ev
	stamp(&ev, s.start, time.Now(), err)
	s.pub.Emit(ev)
}
