package booths

import (
	"context"
	"regexp"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// storeError codes a JetStream failure met while serving a request: the
// caller's deadline passing is 504, anything else (a store that did not
// answer before the booth stopped retrying, answerMargin before that
// deadline, included) 503 "store unavailable": the store may come back, and
// the caller may retry with the same request id.
func storeError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return rpc.Errorf(rpc.CodeDeadlineExceeded, "%s: no answer from JetStream before the deadline", what)
	}
	return rpc.Errorf(rpc.CodeUnavailable, "%s: %w: JetStream: %w", what, rpc.ErrStoreUnavailable, err)
}

// answerMargin is the part of a caller's deadline a booth keeps to answer
// "store unavailable" rather than let the caller time out.
const answerMargin = 100 * time.Millisecond

// retryUntil is when a booth stops retrying a store write: horizon from
// now, or answerMargin before the caller's deadline if that comes first,
// so the caller hears a 503 "store unavailable" (which its breaker does not
// count) rather than an attempt timeout (which it does).
func retryUntil(ctx context.Context, horizon time.Duration) time.Time {
	until := time.Now().Add(horizon)
	if d, ok := ctx.Deadline(); ok && d.Add(-answerMargin).Before(until) {
		until = d.Add(-answerMargin)
	}
	return until
}

// requestIDPattern is what a request id must look like to key a ledger entry
// or deduplicate a record: a UUID passes, and nothing reaches a JetStream
// subject that could change its meaning.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// requireRequestID returns the request id of the call, or a 400 naming why
// it cannot be used.
func requireRequestID(ctx context.Context, service string) (string, error) {
	id := rpc.RequestID(ctx)
	if id == "" {
		return "", rpc.Errorf(rpc.CodeBadRequest, "%s needs the %s header: it is the idempotency key", service, rpc.HeaderRequestID)
	}
	if !requestIDPattern.MatchString(id) {
		return "", rpc.Errorf(rpc.CodeBadRequest, "%s: header %s must be 1-128 letters, digits, '-' or '_'", service, rpc.HeaderRequestID)
	}
	return id, nil
}
