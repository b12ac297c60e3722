package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// metricsServer serves /metrics on a loopback listener.
type metricsServer struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// serveMetrics listens on addr and serves m's /metrics there.
func serveMetrics(addr string, m *mesh.Metrics, log *slog.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	ms := &metricsServer{
		srv: &http.Server{
			Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		addr: ln.Addr(), done: make(chan error, 1),
	}
	go func() { ms.done <- ms.srv.Serve(ln) }()
	log.Info("metrics listening", "url", "http://"+ms.addr.String()+"/metrics")
	return ms, nil
}

// stop shuts the server down within ctx.
func (ms *metricsServer) stop(ctx context.Context) error {
	err := ms.srv.Shutdown(ctx)
	if serr := <-ms.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	return nil
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
