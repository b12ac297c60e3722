package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// recoverer is the booth middleware that turns a handler's panic into a 500
// reply, logs it with its stack, and keeps the booth serving.
func recoverer(log *slog.Logger) Middleware {
	return func(next Endpoint) Endpoint {
		return func(ctx context.Context, req *Message) (res *Message, err error) {
			defer func() {
				if p := recover(); p != nil {
					log.Error("handler panicked", "service", req.Service, "path", req.Path,
						"request_id", req.Header.Get(HeaderRequestID), "trace_id", traceIDOf(req.Header), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					res, err = nil, Errorf(CodeInternal, "internal error in %s %s", req.Service, req.Path)
				}
			}()
			return next(ctx, req)
		}
	}
}
