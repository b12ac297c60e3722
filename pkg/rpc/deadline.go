package rpc

import (
	"context"
	"errors"
	"time"
)

// attemptDeadline is the client middleware that bounds one attempt by the
// attempt timeout and by the caller's deadline, refuses to start an attempt
// past the caller's deadline, and writes the remaining budget on the wire.
// Its deadline context arms no timer until something waits on it: the
// transport waits with nats.go's pooled timers when it can (lazyDeadline).
func attemptDeadline(timeout time.Duration) Middleware {
	return func(next Endpoint) Endpoint {
		return func(ctx context.Context, req *Message) (*Message, error) {
			if err := ctx.Err(); err != nil {
				return nil, transportError(ctx, req, err)
			}
			now := time.Now()
			dl := now.Add(timeout)
			if caller, ok := ctx.Deadline(); ok && !caller.After(dl) {
				// The caller's deadline comes first: it bounds the
				// attempt, and ctx needs no wrapping.
				dl = caller
			} else {
				lazy := withLazyDeadline(ctx, dl)
				defer lazy.release()
				ctx = lazy
			}
			left := dl.Sub(now)
			if left <= 0 {
				return nil, transportError(ctx, req, context.DeadlineExceeded)
			}
			req.Header.Set(HeaderTimeout, formatTimeout(left))
			return next(ctx, req)
		}
	}
}

// boothDeadline is the booth middleware that rebuilds the caller's deadline
// from the wire: the handler's ctx ends when the caller stops waiting. When
// the caller sent none, def applies. The deadline arms a timer only if the
// handler waits on its ctx (lazyDeadline).
//
// A handler that fails with a deadline error after the caller's deadline has
// passed gets no reply sent (errNoReply): the caller has given up on this
// attempt, and a late 504 would only race its own timeout, which decides
// whether the call is retried.
func boothDeadline(def time.Duration) Middleware {
	return func(next Endpoint) Endpoint {
		return func(ctx context.Context, req *Message) (*Message, error) {
			budget, fromCaller := parseTimeout(req.Header.Get(HeaderTimeout))
			if !fromCaller {
				budget = def
			}
			lazy := withLazyDeadline(ctx, time.Now().Add(budget))
			defer lazy.release()
			ctx = lazy
			res, err := next(ctx, req)
			if err != nil && fromCaller && errors.Is(ctx.Err(), context.DeadlineExceeded) && CodeOf(err) == CodeDeadlineExceeded {
				return res, &noReplyError{err: err}
			}
			return res, err
		}
	}
}

// errNoReply is matched by a booth error that must not be answered.
var errNoReply = errors.New("caller's deadline passed: no reply sent")

type noReplyError struct{ err error }

func (e *noReplyError) Error() string   { return errNoReply.Error() + ": " + e.err.Error() }
func (e *noReplyError) Unwrap() []error { return []error{errNoReply, e.err} }
