package ui

import (
	"strings"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Breakers is the body of GET /v1/breakers: the state of the circuit
// breaker of each service ("closed", "half-open", "open").
type Breakers struct {
	Breakers map[string]string `json:"breakers"`
}

// Trace is the body of GET /v1/traces/{trace_id}.
type Trace struct {
	TraceID string        `json:"trace_id"`
	Events  []trace.Event `json:"events"`
	Mermaid string        `json:"mermaid"`
}

// NewTrace returns the body of GET /v1/traces/{trace_id} for the events
// of trace id (as trace.Get returns them): in causal order, with their
// Mermaid diagram.
func NewTrace(id trace.TraceID, events []trace.Event) Trace {
	ordered := trace.CausalOrder(events)
	if ordered == nil {
		ordered = []trace.Event{}
	}
	return Trace{TraceID: id.String(), Events: ordered, Mermaid: trace.Mermaid(ordered)}
}

// MaxSince bounds how far back the live stream replays.
const MaxSince = 24 * time.Hour

// ParseSince reads the since parameter of GET /v1/traces/live: "" is the
// zero time (only new events), a Go duration ("5m", "90s") is that long
// before now, and an RFC 3339 time is itself. A negative duration, a
// time in the future, or one further back than MaxSince is CodeBadRequest.
func ParseSince(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	var t time.Time
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return time.Time{}, rpc.Errorf(rpc.CodeBadRequest, "since: duration must not be negative, got %q", v)
		}
		t = now.Add(-d)
	} else if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
		return time.Time{}, rpc.Errorf(rpc.CodeBadRequest, "since: want a duration such as 5m or an RFC 3339 time, got %q", v)
	}
	switch {
	case t.After(now):
		return time.Time{}, rpc.Errorf(rpc.CodeBadRequest, "since: %q is in the future", v)
	case now.Sub(t) > MaxSince:
		return time.Time{}, rpc.Errorf(rpc.CodeBadRequest, "since: %q is more than %v ago", v, MaxSince)
	}
	return t, nil
}
