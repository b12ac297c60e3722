package runner

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// newMetrics returns the process's metrics: the booths', their trace
// publishers' and the Go runtime's.
func newMetrics() (*metrics.Metrics, error) {
	m, err := metrics.New()
	if err != nil {
		return nil, err
	}
	m.Registry().MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m, nil
}

// observe starts booth's trace publisher on its own connection (it
// publishes on svc.trace.<booth> only) and returns the booth option that
// measures and traces every request: metrics outermost, then tracing, both
// outside the call verifier added after them, so a refused call is counted
// and traced too.
func observe(nc *nats.Conn, m *metrics.Metrics, booth, instance string) (*trace.Publisher, rpc.BoothOption, error) {
	pub, err := trace.NewPublisher(nc, booth)
	if err != nil {
		return nil, nil, fmt.Errorf("trace publisher of %s: %w", booth, err)
	}
	if err := m.TracePublisher(booth, pub); err != nil {
		_ = pub.Close(context.Background())
		return nil, nil, err
	}
	return pub, rpc.WithBoothMiddleware(m.BoothMiddleware(), trace.ServerMiddleware(pub, instance)), nil
}

// serveMetrics listens on addr and serves m's /metrics there.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (*httpServer, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	ms, err := serveHTTP("--metrics-listen", addr, mux, log)
	if err != nil {
		return nil, err
	}
	log.Info("metrics listening", "url", "http://"+ms.addr.String()+"/metrics")
	return ms, nil
}

// isLoopback reports whether the host of addr ("host:port") is a loopback
// IP address or "localhost".
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
