package rpc

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// Header names of the wire contract v1.
const (
	// HeaderAuthorization carries "Bearer <JWT>".
	HeaderAuthorization = "Authorization"
	// HeaderRequestID carries the call's UUID, the same on every retry: the
	// idempotency key.
	HeaderRequestID = "Svc-Request-Id"
	// HeaderTimeout carries the caller's remaining budget for this attempt in
	// whole milliseconds (at least 1).
	HeaderTimeout = "Svc-Timeout-Ms"
	// HeaderCaller names the calling identity; a booth that authenticates
	// calls refuses one that disagrees with the token.
	HeaderCaller = "Svc-Caller"
	// HeaderAttempt is the 1-based attempt number of this delivery.
	HeaderAttempt = "Svc-Attempt"
	// HeaderReplayed is set ("1") on the answer of a NotIdempotent endpoint
	// that the booth replayed from its dedup store instead of running the
	// handler again.
	HeaderReplayed = "Svc-Replayed"
	// HeaderUnavailable names why a booth answered 503 when it is alive:
	// UnavailableStore when the store it needs does not answer
	// (ErrStoreUnavailable). The breaker does not count such an answer.
	HeaderUnavailable = "Svc-Unavailable"
	// HeaderRetryAfter, on a 503, is a booth shedding load: it says in
	// how many milliseconds to retry. The breaker does not count such an
	// answer.
	HeaderRetryAfter = "Svc-Retry-After-Ms"
	// HeaderTraceparent and HeaderTracestate are W3C Trace Context.
	HeaderTraceparent = "traceparent"
	HeaderTracestate  = "tracestate"
	// HeaderError and HeaderErrorCode carry a booth's error, as NATS micro
	// writes them, so any NATS client can read them.
	HeaderError     = micro.ErrorHeader
	HeaderErrorCode = micro.ErrorCodeHeader
)

// UnavailableStore is HeaderUnavailable's value for ErrStoreUnavailable.
const UnavailableStore = "store"

// formatTimeout renders a remaining budget for HeaderTimeout.
func formatTimeout(d time.Duration) string {
	ms := d.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	return strconv.FormatInt(ms, 10)
}

// parseTimeout reads HeaderTimeout; ok is false when absent or malformed.
func parseTimeout(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 || ms > int64(24*time.Hour/time.Millisecond) {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// traceIDOf returns the trace id of a well-formed traceparent in h
// ("00-<trace id>-<span id>-<flags>"), for log lines outside the trace
// middleware, or "".
func traceIDOf(h nats.Header) string {
	tp := h.Get(HeaderTraceparent)
	if len(tp) != 55 || tp[2] != '-' || tp[35] != '-' {
		return ""
	}
	return tp[3:35]
}
