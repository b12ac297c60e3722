package rpc

import (
	"context"
	"time"
)

// attemptDeadline is the client middleware that bounds one attempt by the
// attempt timeout and by the caller's deadline, refuses to start an attempt
// past the caller's deadline, and writes the remaining budget on the wire.
func attemptDeadline(timeout time.Duration) Middleware {
	return func(next Endpoint) Endpoint {
		return func(ctx context.Context, req *Message) (*Message, error) {
			if err := ctx.Err(); err != nil {
				return nil, transportError(ctx, req, err)
			}
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			dl, _ := ctx.Deadline()
			left := time.Until(dl)
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
// the caller sent none, def applies.
func boothDeadline(def time.Duration) Middleware {
	return func(next Endpoint) Endpoint {
		return func(ctx context.Context, req *Message) (*Message, error) {
			budget, ok := parseTimeout(req.Header.Get(HeaderTimeout))
			if !ok {
				budget = def
			}
			ctx, cancel := context.WithTimeout(ctx, budget)
			defer cancel()
			return next(ctx, req)
		}
	}
}
