package bench

import (
	"context"
	"sync/atomic"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Switchable wraps mw so that it runs only while on is true; otherwise the
// request goes straight to the next endpoint. It lets one client and one
// booth be measured with tracing on and off, alternately, in one run: the
// switch costs one atomic load per call.
func Switchable(on *atomic.Bool, mw rpc.Middleware) rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		with := mw(next)
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			if on.Load() {
				return with(ctx, req)
			}
			return next(ctx, req)
		}
	}
}
