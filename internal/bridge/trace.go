package bridge

import (
	"net/http"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// maxTracestate bounds the tracestate header passed on (W3C allows 32
// members; 512 bytes is the size recommended to propagate).
const maxTracestate = 512

// traceparent returns the request's W3C traceparent header when it is well
// formed ("00-<32 hex trace id>-<16 hex span id>-<2 hex flags>", ids not all
// zero), and "" otherwise: a malformed one is dropped, as the W3C
// specification says, rather than refused.
func traceparent(r *http.Request) string {
	v := r.Header.Get(rpc.HeaderTraceparent)
	if len(v) != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return ""
	}
	if v[:2] == "ff" || !lowerHex(v[:2]) || !lowerHex(v[36:52]) || !lowerHex(v[53:]) {
		return ""
	}
	if !lowerHex(v[3:35]) || allZero(v[3:35]) || allZero(v[36:52]) {
		return ""
	}
	return v
}

// traceIDOf returns the trace id of the request's traceparent, or "".
func traceIDOf(r *http.Request) string {
	if tp := traceparent(r); tp != "" {
		return tp[3:35]
	}
	return ""
}

// traceHeaders returns the NATS headers that carry the request's trace
// context to the booth.
func traceHeaders(r *http.Request) nats.Header {
	h := nats.Header{}
	tp := traceparent(r)
	if tp == "" {
		return h
	}
	h.Set(rpc.HeaderTraceparent, tp)
	if ts := r.Header.Get(rpc.HeaderTracestate); ts != "" && len(ts) <= maxTracestate {
		h.Set(rpc.HeaderTracestate, ts)
	}
	return h
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
