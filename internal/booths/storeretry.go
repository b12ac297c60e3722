package booths

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/wait"
)

// retryStoreWrite runs write, each time with auditAttemptTimeout, until it
// succeeds, fails for good, or retryUntil(ctx, AuditRetryHorizon) passes:
// while a stream elects a new leader nothing answers, and a write whose
// outcome is unknown is safe to repeat because write is idempotent (a
// create of the same key, a publish with the same message id). It returns
// the last error.
func retryStoreWrite(ctx context.Context, write func(context.Context) error) error {
	hctx, cancel := context.WithDeadline(ctx, retryUntil(ctx, AuditRetryHorizon))
	defer cancel()
	for n := 1; ; n++ {
		actx, acancel := context.WithTimeout(hctx, auditAttemptTimeout)
		err := write(actx)
		acancel()
		if err == nil || !leaderless(err) {
			return err
		}
		if !wait.Sleep(hctx, backoff(n)) {
			return err
		}
	}
}

// leaderless reports whether a JetStream write failed as it does while no
// leader answers: a timeout, no responders, a 503 of the API.
func leaderless(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		return true
	case errors.As(err, &apiErr):
		return apiErr.Code >= 500
	}
	return false
}
