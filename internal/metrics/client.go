package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// ClientMiddleware measures logical calls: install it with
// rpc.WithCallMiddleware, so that it runs once per call, outside the
// breaker and the retries. It counts hms_svc_client_requests_total by
// service, path and code, observes hms_svc_client_request_duration_seconds
// and keeps hms_svc_client_requests_in_flight.
func (m *Metrics) ClientMiddleware() rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			service, path := m.routes.labels(req.Service, req.Path)
			inFlight := m.clientInFlight.WithLabelValues(service)
			inFlight.Inc()
			start := time.Now()
			res, err := next(ctx, req)
			m.clientDuration.WithLabelValues(service, path).Observe(time.Since(start).Seconds())
			m.clientRequests.WithLabelValues(service, path, codeLabel(rpc.CodeOf(err))).Inc()
			inFlight.Dec()
			return res, err
		}
	}
}

// AttemptMiddleware counts attempts: install it with
// rpc.WithAttemptMiddleware, so that it runs once per attempt, inside the
// retries. It counts hms_svc_client_attempts_total by service, path and
// code, and hms_svc_client_retries_total for every attempt after the first
// (as rpc.HeaderAttempt numbers it).
func (m *Metrics) AttemptMiddleware() rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			service, path := m.routes.labels(req.Service, req.Path)
			if n, err := strconv.Atoi(req.Header.Get(rpc.HeaderAttempt)); err == nil && n > 1 {
				m.retries.WithLabelValues(service, path).Inc()
			}
			res, err := next(ctx, req)
			m.attempts.WithLabelValues(service, path, codeLabel(rpc.CodeOf(err))).Inc()
			return res, err
		}
	}
}
