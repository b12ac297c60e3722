package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// drainTimeout bounds how long Wait waits for the NATS connection to drain.
const drainTimeout = 10 * time.Second

// flushTimeout bounds how long Wait waits for the last trace events to be
// acknowledged (milliseconds when JetStream answers); those still unsent
// then are dropped, counted and logged, without failing the stop.
const flushTimeout = 2 * time.Second

// App is a running broker-bridge.
type App struct {
	log     *slog.Logger
	addr    net.Addr
	natsURL string
	embed   *server.Server // nil with an external NATS
	nc      *nats.Conn
	pub     *trace.Publisher
	closed  chan struct{} // closed when nc is closed
	served  chan error    // Serve's result
	// monitorAddr and healthAddr are the monitoring and the health
	// listeners' addresses, nil without --monitor-listen or --health-listen;
	// sides holds the results of their Serve calls.
	monitorAddr net.Addr
	healthAddr  net.Addr
	sides       []chan error
}

// Start checks cfg and the credentials, starts the embedded NATS server if
// needed, connects as the bridge identity, listens and serves until ctx
// ends; Wait then finishes the shutdown.
func Start(ctx context.Context, cfg Config) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	creds, err := loadCredentials(cfg)
	if err != nil {
		return nil, err
	}
	bcfg := cfg.Bridge
	bcfg.TLS, bcfg.InsecureH2C = creds.serverTLS, cfg.InsecureH2C
	bcfg.Identity, bcfg.Caller = cfg.Identity, creds.caller
	bcfg.ClientOptions = append([]rpc.Option{rpc.WithAttemptMiddleware(creds.signer.Middleware())}, bcfg.ClientOptions...)
	if bcfg.Logger == nil {
		bcfg.Logger = cfg.Logger
	}

	a := &App{log: cfg.Logger, natsURL: cfg.NATSURL, closed: make(chan struct{}), served: make(chan error, 1)}
	defer func() {
		if err != nil {
			a.stopNATS()
		}
	}()
	if cfg.NATSURL == "" {
		if err := a.startEmbedded(cfg, creds); err != nil {
			return nil, err
		}
	}
	a.nc, err = nats.Connect(a.natsURL, append(creds.nats,
		nats.Name(cfg.Identity),
		nats.MaxReconnects(-1),
		nats.ClosedHandler(func(*nats.Conn) { close(a.closed) }),
	)...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS at %s as %s: %w", a.natsURL, cfg.Identity, err)
	}
	if err := a.startTracing(ctx, cfg, &bcfg); err != nil {
		return nil, err
	}
	b, err := bridge.New(bcfg, a.nc)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	if a.monitorAddr, err = a.serveSide(ctx, "--monitor-listen", cfg.MonitorListen, b.ServeMonitor); err == nil {
		a.healthAddr, err = a.serveSide(ctx, "--health-listen", cfg.HealthListen, b.ServeHealth)
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	a.addr = ln.Addr()
	go func() { a.served <- b.Serve(ctx, ln) }()
	mode := "https (HTTP/2, HTTP/1.1) with client certificates; calls for each certificate's identity"
	if cfg.InsecureH2C {
		mode = "cleartext h2c (loopback only); calls for " + cfg.InsecureH2CAs
	}
	a.log.Info("bridge listening", "addr", a.addr.String(), "mode", mode, "nats", a.natsURL, "embedded", a.embed != nil)
	if a.monitorAddr != nil {
		a.log.Info("monitoring listening (read-only, no authentication, loopback)", "addr", a.monitorAddr.String(),
			"ui", "http://"+a.monitorAddr.String()+"/ui")
	}
	if a.healthAddr != nil {
		a.log.Info("health listening (/healthz, /readyz only)", "addr", a.healthAddr.String())
	}
	return a, nil
}

// serveSide listens on addr, when set, and serves it with serve beside the
// API until ctx ends; flag names the listener in errors. It returns the
// address, or nil when addr is empty.
func (a *App) serveSide(ctx context.Context, flag, addr string, serve func(context.Context, net.Listener) error) (net.Addr, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	done := make(chan error, 1)
	a.sides = append(a.sides, done)
	go func() { done <- serve(ctx, ln) }()
	return ln.Addr(), nil
}

// startEmbedded runs the embedded NATS server with the mesh's
// authorization: TLS with client certificates from the mesh CA, one NKey
// user per identity of the matrix with its permissions, nobody else.
func (a *App) startEmbedded(cfg Config, creds *credentials) error {
	host, port, err := splitHostPort(cfg.NATSListen)
	if err != nil {
		return fmt.Errorf("--nats-listen: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	m := creds.matrix
	a.embed, err = embednats.Start(embednats.Config{
		Host: host, Port: port, StoreDir: cfg.DataDir, ServerName: "broker-bridge",
		Tune: func(o *server.Options) error {
			return natsauth.Apply(o, m, m.Keys(), natsauth.ServerFiles(cfg.MeshDir))
		},
	})
	if err != nil {
		return err
	}
	a.natsURL = a.embed.ClientURL()
	return nil
}

// MonitorAddr returns the address of the monitoring listener, or nil
// when there is none.
func (a *App) MonitorAddr() net.Addr { return a.monitorAddr }

// HealthAddr returns the address of the health listener, or nil when there
// is none.
func (a *App) HealthAddr() net.Addr { return a.healthAddr }

// Addr returns the address the bridge listens on.
func (a *App) Addr() net.Addr { return a.addr }

// NATSURL returns the URL of the NATS server the bridge uses (the embedded
// one's when it runs one).
func (a *App) NATSURL() string { return a.natsURL }

// Wait blocks until the bridge has stopped serving (its ctx ended and the
// requests in flight finished, on every listener), then publishes the trace
// events still held, drains the NATS connection and shuts the embedded
// server down. It returns the errors of these steps.
func (a *App) Wait() error {
	err := <-a.served
	for _, done := range a.sides {
		err = errors.Join(err, <-done)
	}
	a.log.Info("bridge stopped serving; flushing trace events, then draining NATS")
	return errors.Join(err, a.stopNATS())
}

// stopNATS flushes the trace publisher, drains the connection and stops
// the embedded server, if any.
func (a *App) stopNATS() error {
	var err error
	if a.pub != nil {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		ferr := a.pub.Close(ctx)
		cancel()
		if s := a.pub.Stats(); ferr != nil || s.DroppedFull+s.DroppedFailed+s.DroppedInvalid > 0 {
			a.log.Warn("trace events dropped", "published", s.Published, "full", s.DroppedFull, "failed", s.DroppedFailed,
				"invalid", s.DroppedInvalid, "last_error", s.LastError, "flush", ferr)
		}
	}
	if a.nc != nil {
		if derr := a.nc.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
			err = fmt.Errorf("draining NATS: %w", derr)
			a.nc.Close()
		}
		select {
		case <-a.closed:
		case <-time.After(drainTimeout):
			a.nc.Close()
			err = errors.Join(err, errors.New("draining NATS: timed out"))
		}
	}
	if a.embed != nil {
		a.embed.Shutdown()
		a.embed.WaitForShutdown()
		a.log.Info("embedded NATS stopped")
	}
	return err
}
