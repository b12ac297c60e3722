package runner

import (
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// serveMetrics listens on addr and serves m's /metrics there.
func serveMetrics(addr string, m *mesh.Metrics, log *slog.Logger) (*httpServer, error) {
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
