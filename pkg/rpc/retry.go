package rpc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hms-svc/hms-svc/internal/wait"
)

// retry is the client middleware that retries what is safe to retry: an
// attempt no instance received (no responders) or one that timed out while
// the caller's deadline still holds. A coded application error is never
// retried. Every attempt carries the same request id (set by the Client) and
// its number in HeaderAttempt from the second on. When budgets is not nil,
// every call deposits in its service's budget and every retry must withdraw
// from it; a refused retry ends the call.
func retry(retries int, backoff time.Duration, budgets *retryBudgets) Middleware {
	return func(next Endpoint) Endpoint {
		return func(ctx context.Context, req *Message) (*Message, error) {
			var budget *retryBudget
			if budgets != nil {
				budget = budgets.get(req.Service)
				budget.deposit()
			}
			res, err := next(ctx, req)
			if err == nil || retries == 0 || !retryable(ctx, err) {
				return res, err
			}
			attempts := &AttemptsError{Attempts: []error{err}}
			var interrupted error // the caller's ctx ended during a backoff
			for attempt := 2; attempt <= retries+1; attempt++ {
				if budget != nil && !budget.withdraw() {
					attempts.Refused = &budgetRefusal{service: req.Service}
					break
				}
				if !wait.Sleep(ctx, jitter(backoff, attempt-1)) {
					interrupted = transportError(ctx, req, ctx.Err())
					break
				}
				req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
				res, err = next(ctx, req)
				if err == nil {
					return res, nil
				}
				attempts.Attempts = append(attempts.Attempts, err)
				if !retryable(ctx, err) {
					break
				}
			}
			return res, attemptsFailed(attempts, interrupted)
		}
	}
}

// attemptsFailed is the error of a call whose attempts all failed: the
// caller's ctx error if it ended during a backoff, else the last attempt's,
// with every attempt's error as its cause.
func attemptsFailed(attempts *AttemptsError, interrupted error) error {
	n := len(attempts.Attempts)
	note := fmt.Sprintf("after %d attempts", n)
	if n == 1 {
		note = "after 1 attempt"
	}
	if attempts.Refused != nil {
		note += "; " + attempts.Refused.Error()
	}
	if interrupted != nil {
		return &Error{
			code:  CodeOf(interrupted),
			msg:   fmt.Sprintf("%s (%s)", MessageOf(interrupted), note),
			cause: errors.Join(interrupted, attempts),
		}
	}
	final := attempts.Final()
	return &Error{code: CodeOf(final), msg: fmt.Sprintf("%s (%s)", MessageOf(final), note), cause: attempts}
}

// retryable reports whether a failed attempt surely did no work, or did
// only work a retry with the same request id repeats safely, or timed out
// while the caller still waits.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var e *Error
	if !errors.As(err, &e) || e.cause == nil {
		// A booth's coded answer (no cause) is an application error.
		return false
	}
	// A booth's "store unavailable" did no work it cannot repeat: its
	// writes are idempotent under the request id, so a retry is safe.
	return errors.Is(err, ErrNoInstance) || errors.Is(err, ErrNotConnected) || e.code == CodeDeadlineExceeded ||
		errors.Is(err, ErrStoreUnavailable)
}

// jitter returns a random wait in [b/2, b] for b = base * 2^(n-1).
func jitter(base time.Duration, n int) time.Duration {
	return wait.Jitter(base << (n - 1))
}
