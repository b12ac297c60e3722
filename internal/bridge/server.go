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
// asked for on a listener that is not loopback, and by the error of
// ServeMonitor on such a listener.
var ErrNotLoopback = errors.New("cleartext HTTP/2 is only served on a loopback address")

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully: it
// ends the live trace streams, stops accepting, lets requests in flight
// finish (for at most ShutdownTimeout) and returns nil. With Config.TLS it
// serves HTTPS with HTTP/2; with InsecureH2C, cleartext HTTP/2 (and
// HTTP/1.1) on a loopback or unix-socket ln only. Serve also refreshes
// discovery every DiscoveryRefresh while it runs, unless CallOnly.
func (b *Bridge) Serve(ctx context.Context, ln net.Listener) error {
	if b.cfg.TLS == nil && !isLocal(ln.Addr()) {
		return fmt.Errorf("bridge: %w: %s (serve TLS instead)", ErrNotLoopback, ln.Addr())
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if !b.cfg.CallOnly {
		go b.disc.run(ctx, b.cfg.DiscoveryRefresh)
	}
	return b.serve(ctx, ln, b.server(ctx, b, b.cfg.TLS != nil))
}

// ServeMonitor answers the monitoring listener on ln, which must be
// loopback, until ctx ends, then shuts down as Serve does. It serves
// MonitorHandler in cleartext, HTTP/1.1 and HTTP/2 (h2c), with no
// authentication: a browser on this machine reads the live page without a
// client certificate. It makes no call. Run it beside Serve, on another
// listener.
func (b *Bridge) ServeMonitor(ctx context.Context, ln net.Listener) error {
	if !IsLoopback(ln.Addr().String()) {
		return fmt.Errorf("bridge: monitoring listener: %w: %s (it has no authentication)", ErrNotLoopback, ln.Addr())
	}
	return b.serve(ctx, ln, b.cleartext(ctx, b.MonitorHandler()))
}

// ServeHealth answers the health listener on ln (HealthHandler), on any
// address, in cleartext HTTP/1.1 and h2c, until ctx ends, then shuts down
// as Serve does. Run it beside Serve, on another listener.
func (b *Bridge) ServeHealth(ctx context.Context, ln net.Listener) error {
	return b.serve(ctx, ln, b.cleartext(ctx, b.HealthHandler()))
}

// cleartext returns the http.Server of a listener without TLS: h2c and
// HTTP/1.1, the protocol of a browser, a probe or a scraper.
func (b *Bridge) cleartext(ctx context.Context, h http.Handler) *http.Server {
	srv := b.server(ctx, h, false)
	srv.Protocols.SetHTTP1(true)
	return srv
}

// serve runs srv on ln until ctx ends, then shuts it down.
func (b *Bridge) serve(ctx context.Context, ln net.Listener, srv *http.Server) error {
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

// server returns an http.Server of h with the bridge's limits: HTTPS with
// HTTP/2 when secure, cleartext HTTP/2 otherwise, and HTTP/1.1 unless
// DisableHTTP1; one header limit for every protocol (limitHeaders). Requests carry serveCtx (serveCtxKey), which ends their
// live streams at shutdown.
func (b *Bridge) server(serveCtx context.Context, h http.Handler, secure bool) *http.Server {
	protos := new(http.Protocols)
	protos.SetHTTP1(!b.cfg.DisableHTTP1)
	if secure {
		protos.SetHTTP2(true)
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           b.limitHeaders(b.cfg.MaxHeaderBytes, h),
		ReadHeaderTimeout: b.cfg.ReadHeaderTimeout,
		ReadTimeout:       b.cfg.ReadTimeout,
		WriteTimeout:      b.cfg.WriteTimeout,
		IdleTimeout:       b.cfg.IdleTimeout,
		MaxHeaderBytes:    serverHeaderBytes(b.cfg.MaxHeaderBytes),
		Protocols:         protos,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: b.cfg.MaxConcurrentStreams},
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), serveCtxKey{}, serveCtx)
		},
	}
	if secure {
		srv.TLSConfig = b.cfg.TLS.Clone()
	}
	return srv
}

// isLocal reports whether addr is reachable from this machine only: a unix
// socket, or a loopback TCP address.
func isLocal(addr net.Addr) bool {
	if _, ok := addr.(*net.UnixAddr); ok {
		return true
	}
	return IsLoopback(addr.String())
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
