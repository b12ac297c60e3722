package metrics

import (
	"context"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// BoothMiddleware measures a booth's handling of requests: install it with
// rpc.WithBoothMiddleware. It counts hms_svc_booth_requests_total by
// service, path and the code the booth answers, observes
// hms_svc_booth_request_duration_seconds and keeps
// hms_svc_booth_requests_in_flight. A handler that panics is counted as 500,
// the booth's answer. Paths are the booth's own, so their number is bounded.
func (m *Metrics) BoothMiddleware() rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (res *rpc.Message, err error) {
			path := canonicalPath(req.Path)
			inFlight := m.boothInFlight.WithLabelValues(req.Service)
			inFlight.Inc()
			start := time.Now()
			returned := false
			defer func() {
				code := rpc.CodeInternal // the handler panicked
				if returned {
					code = boothCode(err)
				}
				m.boothDuration.WithLabelValues(req.Service, path).Observe(time.Since(start).Seconds())
				m.boothRequests.WithLabelValues(req.Service, path, codeLabel(code)).Inc()
				inFlight.Dec()
			}()
			res, err = next(ctx, req)
			returned = true
			return res, err
		}
	}
}
