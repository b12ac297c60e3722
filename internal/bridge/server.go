package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// ErrNotLoopback is matched by the error Serve returns when InsecureH2C is
// asked for on a listener that is not loopback.
var ErrNotLoopback = errors.New("cleartext HTTP/2 is only served on a loopback address")

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully: it
// stops accepting, lets requests in flight finish (for at most
// ShutdownTimeout) and returns nil. With Config.TLS it serves HTTPS with
// HTTP/2; with InsecureH2C, cleartext HTTP/2 on a loopback ln only. Serve
// also refreshes discovery every DiscoveryRefresh while it runs.
func (b *Bridge) Serve(ctx context.Context, ln net.Listener) error {
	if b.cfg.TLS == nil && !IsLoopback(ln.Addr().String()) {
		return fmt.Errorf("bridge: %w: %s (serve TLS instead)", ErrNotLoopback, ln.Addr())
	}
	srv := b.server()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go b.disc.run(ctx, b.cfg.DiscoveryRefresh)

	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("bridge: serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("bridge: shutting down: %w", err)
	}
	return nil
}

// server returns the http.Server with the bridge's limits and protocols.
func (b *Bridge) server() *http.Server {
	var protos http.Protocols
	protos.SetHTTP1(!b.cfg.DisableHTTP1)
	if b.cfg.TLS != nil {
		protos.SetHTTP2(true)
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           b,
		ReadHeaderTimeout: b.cfg.ReadHeaderTimeout,
		ReadTimeout:       b.cfg.ReadTimeout,
		WriteTimeout:      b.cfg.WriteTimeout,
		IdleTimeout:       b.cfg.IdleTimeout,
		MaxHeaderBytes:    b.cfg.MaxHeaderBytes,
		Protocols:         &protos,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: b.cfg.MaxConcurrentStreams},
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelWarn),
	}
	if b.cfg.TLS != nil {
		srv.TLSConfig = b.cfg.TLS.Clone()
	}
	return srv
}

// IsLoopback reports whether the host of addr ("host:port" or a bare host)
// is a loopback IP address or "localhost". An empty host (all interfaces)
// is not loopback.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
