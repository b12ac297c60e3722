package trace

import (
	"fmt"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Kind says which side of a hop an event describes.
type Kind string

// The two kinds of event.
const (
	// KindClient is a caller's attempt: from sending the request to getting
	// the reply (or giving up). A retried call has one per attempt.
	KindClient Kind = "client"
	// KindServer is a booth's (or the bridge's) handling of one request.
	KindServer Kind = "server"
)

// Event is one hop of a trace as it is published on svc.trace.<service>.
// The JSON field names are documented in doc.go.
type Event struct {
	TraceID TraceID `json:"trace_id"`
	SpanID  SpanID  `json:"span_id"`
	// ParentSpanID is the span this one was caused by; zero (and absent from
	// the JSON) for the first hop of a trace.
	ParentSpanID SpanID `json:"parent_span_id,omitzero"`
	Kind         Kind   `json:"kind"`
	// Caller is the identity that made the call ("gateway", "fee-calc").
	Caller string `json:"caller,omitempty"`
	// Service and Path name the callee ("fee-calc", "/calculate").
	Service   string `json:"service"`
	Path      string `json:"path"`
	RequestID string `json:"request_id,omitempty"`
	// Attempt is the caller's 1-based attempt number.
	Attempt int       `json:"attempt"`
	Start   time.Time `json:"start"`
	Stop    time.Time `json:"stop"`
	// DurationUS is Stop - Start in microseconds, measured on a monotonic
	// clock.
	DurationUS int64 `json:"duration_us"`
	// Code is the result: 0 for success, else the rpc.Code of the error.
	Code rpc.Code `json:"code"`
	// Error is the error's message, redacted; never a body, token or SSN.
	Error string `json:"error,omitempty"`
	// Instance names the process or booth instance that emitted the event.
	Instance string `json:"instance,omitempty"`
}

// Duration returns the hop's duration.
func (e *Event) Duration() time.Duration { return time.Duration(e.DurationUS) * time.Microsecond }

// Validate checks what a reader relies on: ids, kind, names and a start no
// later than the stop. The error wraps ErrEvent and names the field.
func (e *Event) Validate() error {
	switch {
	case e.TraceID.IsZero():
		return evErr("trace_id is missing")
	case e.SpanID.IsZero():
		return evErr("span_id is missing")
	case e.Kind != KindClient && e.Kind != KindServer:
		return evErr("kind must be \"client\" or \"server\", got %q", e.Kind)
	case e.Service == "":
		return evErr("service is missing")
	case e.Path == "":
		return evErr("path is missing")
	case e.Attempt < 0:
		return evErr("attempt must not be negative, got %d", e.Attempt)
	case e.Start.IsZero() || e.Stop.IsZero():
		return evErr("start and stop are required")
	case e.Stop.Before(e.Start):
		return evErr("stop is before start")
	case e.DurationUS < 0:
		return evErr("duration_us must not be negative, got %d", e.DurationUS)
	}
	return nil
}

func evErr(format string, args ...any) error {
	return rpc.Errorf(rpc.CodeBadRequest, "%w: %s", ErrEvent, fmt.Sprintf(format, args...))
}

// stamp sets the timing and result of a hop.
func stamp(ev *Event, start, stop time.Time, err error) {
	ev.Start, ev.Stop = start, stop
	ev.DurationUS = stop.Sub(start).Microseconds()
	if err != nil {
		ev.Code = codeOf(err)
		ev.Error = errorText(err, ev.Service, ev.Path)
	}
}
