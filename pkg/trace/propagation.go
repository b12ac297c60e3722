package trace

import (
	"context"
	"strings"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// FlagSampled is the W3C trace-flags bit saying the caller records the
// trace. The mesh records every call and always sets it on traces it starts.
const FlagSampled byte = 0x01

// traceparentLen is the length of a version 00 traceparent:
// "00-" + 32 + "-" + 16 + "-" + 2.
const traceparentLen = 55

// maxTracestateLen bounds a tracestate we carry (W3C: at least 512 must be
// propagated; we propagate exactly up to 512).
const maxTracestateLen = 512

// SpanContext is what one hop passes to the next: the W3C traceparent
// fields plus the tracestate, carried through untouched.
type SpanContext struct {
	TraceID TraceID
	SpanID  SpanID
	// Flags are the W3C trace-flags (FlagSampled).
	Flags byte
	// State is the tracestate header of the trace, or "".
	State string
}

// IsValid reports whether sc names a trace and a span.
func (sc SpanContext) IsValid() bool { return !sc.TraceID.IsZero() && !sc.SpanID.IsZero() }

// Traceparent returns sc as a version 00 traceparent header value:
// "00-<trace id>-<span id>-<flags>".
func (sc SpanContext) Traceparent() string {
	var b [traceparentLen]byte
	const digits = "0123456789abcdef"
	b[0], b[1], b[2] = '0', '0', '-'
	for i, x := range sc.TraceID {
		b[3+2*i], b[4+2*i] = digits[x>>4], digits[x&0xf]
	}
	b[35] = '-'
	for i, x := range sc.SpanID {
		b[36+2*i], b[37+2*i] = digits[x>>4], digits[x&0xf]
	}
	b[52] = '-'
	b[53], b[54] = digits[sc.Flags>>4], digits[sc.Flags&0xf]
	return string(b[:])
}

// ParseTraceparent reads a W3C traceparent header value. It is strict: only
// version 00, exactly 55 characters, lowercase hex, dashes in place, and
// neither the trace id nor the parent span id all zeros. The error wraps
// ErrTraceparent, says what was wrong, and has CodeBadRequest. The returned
// State is empty; see ParseTracestate.
func ParseTraceparent(s string) (SpanContext, error) {
	if len(s) != traceparentLen {
		return SpanContext{}, tpErr("want %d characters, got %d", traceparentLen, len(s))
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return SpanContext{}, tpErr("fields must be separated by '-' at offsets 2, 35 and 52")
	}
	if s[:2] != "00" {
		return SpanContext{}, tpErr("version %q is not supported, want \"00\"", s[:2])
	}
	var sc SpanContext
	if err := decodeHex(sc.TraceID[:], s[3:35], "trace id"); err != nil {
		return SpanContext{}, tpErr("%s", rpc.MessageOf(err))
	}
	if err := decodeHex(sc.SpanID[:], s[36:52], "parent id"); err != nil {
		return SpanContext{}, tpErr("%s", rpc.MessageOf(err))
	}
	var flags [1]byte
	if err := decodeHex(flags[:], s[53:], "trace flags"); err != nil {
		return SpanContext{}, tpErr("%s", rpc.MessageOf(err))
	}
	sc.Flags = flags[0]
	if sc.TraceID.IsZero() {
		return SpanContext{}, tpErr("trace id is all zeros")
	}
	if sc.SpanID.IsZero() {
		return SpanContext{}, tpErr("parent id is all zeros")
	}
	return sc, nil
}

func tpErr(format string, args ...any) error {
	return rpc.Errorf(rpc.CodeBadRequest, "%w: "+format, append([]any{ErrTraceparent}, args...)...)
}

// ParseTracestate checks a W3C tracestate header value and returns it with
// surrounding blanks removed: at most 512 characters and 32 list members,
// each "key=value" with a lowercase key (optionally "tenant@system") and a
// value of printable ASCII without ',' or '='. An invalid tracestate must be
// dropped, not forwarded; the error wraps ErrTracestate.
func ParseTracestate(s string) (string, error) {
	s = strings.Trim(s, " \t")
	if len(s) > maxTracestateLen {
		return "", rpc.Errorf(rpc.CodeBadRequest, "%w: %d characters, at most %d", ErrTracestate, len(s), maxTracestateLen)
	}
	members := 0
	for m := range strings.SplitSeq(s, ",") {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue
		}
		members++
		if members > 32 {
			return "", rpc.Errorf(rpc.CodeBadRequest, "%w: more than 32 list members", ErrTracestate)
		}
		key, value, ok := strings.Cut(m, "=")
		if !ok || !validStateKey(key) || !validStateValue(value) {
			return "", rpc.Errorf(rpc.CodeBadRequest, "%w: bad list member %q", ErrTracestate, m)
		}
	}
	return s, nil
}

// validStateKey checks a tracestate key: [a-z0-9][a-z0-9_\-*/]* with at most
// one '@' splitting tenant and system, 256 characters at most.
func validStateKey(k string) bool {
	if k == "" || len(k) > 256 || !(k[0] >= 'a' && k[0] <= 'z' || k[0] >= '0' && k[0] <= '9') {
		return false
	}
	at := 0
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-', c == '*', c == '/':
		case c == '@' && i > 0 && i < len(k)-1:
			at++
		default:
			return false
		}
	}
	return at <= 1
}

// validStateValue checks a tracestate value: 1 to 256 printable ASCII
// characters other than ',' and '=', not ending in a space.
func validStateValue(v string) bool {
	if v == "" || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}

// spanFromHeaders reads the caller's span from W3C headers. ok is false when
// traceparent is absent or invalid; then tracestate is ignored too, as W3C
// requires. An invalid tracestate alone is dropped.
func spanFromHeaders(traceparent, tracestate string) (SpanContext, bool) {
	if traceparent == "" {
		return SpanContext{}, false
	}
	sc, err := ParseTraceparent(traceparent)
	if err != nil {
		return SpanContext{}, false
	}
	if tracestate != "" {
		sc.State, _ = ParseTracestate(tracestate)
	}
	return sc, true
}

type spanKey struct{}

// ContextWithSpan returns a ctx carrying sc as the current span: a call made
// with that ctx through a Client with ClientMiddleware is its child.
func ContextWithSpan(ctx context.Context, sc SpanContext) context.Context {
	return context.WithValue(ctx, spanKey{}, sc)
}

// SpanFromContext returns the current span of ctx, and false when there is
// none.
func SpanFromContext(ctx context.Context) (SpanContext, bool) {
	sc, ok := ctx.Value(spanKey{}).(SpanContext)
	return sc, ok
}
