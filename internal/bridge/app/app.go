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

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// App is a running broker-bridge.
type App struct {
	log     *slog.Logger
	addr    net.Addr
	natsURL string
	embed   *server.Server // nil with an external NATS
	// stopFollow ends the embedded server's watch of the credentials
	// folder, and followed is closed when it has ended.
	stopFollow context.CancelFunc
	followed   chan struct{}
	member     *mesh.Mesh
	served     chan error // Serve's result
	// monitorAddr and healthAddr are the monitoring and the health
	// listeners' addresses, nil without --monitor-listen or --health-listen;
	// sides holds the results of their Serve calls.
	monitorAddr net.Addr
	healthAddr  net.Addr
	sides       []chan error
	// exported is the OTLP exporter's result; nil without --otlp-endpoint.
	exported chan error
}

// Start checks cfg and the credentials, starts the embedded NATS server if
// needed, joins the mesh as the bridge identity, listens and serves until
// ctx ends; Wait then finishes the shutdown.
func Start(ctx context.Context, cfg Config) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	creds, err := loadCredentials(cfg)
	if err != nil {
		return nil, err
	}
	bcfg := cfg.Bridge
	bcfg.TLS, bcfg.InsecureH2C, bcfg.Caller = creds.serverTLS, cfg.InsecureH2C, creds.caller
	if bcfg.Logger == nil {
		bcfg.Logger = cfg.Logger
	}
	a := &App{log: cfg.Logger, natsURL: cfg.NATSURL, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			a.stopNATS()
		}
	}()
	started := time.Now() // the OTLP export starts with the events from here
	if cfg.NATSURL == "" {
		if err := a.startEmbedded(cfg, creds); err != nil {
			return nil, err
		}
	}
	a.member, err = mesh.Connect(ctx, mesh.Config{
		Identity: cfg.Identity, Credentials: creds.creds, Matrix: creds.matrix,
		NATSURL: a.natsURL, Logger: cfg.Logger, ClientOptions: cfg.ClientOptions,
	})
	if err != nil {
		return nil, noCredentials(cfg.MeshDir, err)
	}
	if !cfg.InsecureH2C {
		// Served from the Mesh's credentials, so a rotation reaches it.
		if bcfg.TLS, err = a.member.ServerTLSConfig(); err != nil {
			return nil, noCredentials(cfg.MeshDir, err)
		}
	}
	if err := a.provisionStores(ctx, cfg, creds.matrix); err != nil {
		return nil, err
	}
	if err := a.startExport(ctx, cfg, started); err != nil {
		return nil, err
	}
	b, err := bridge.New(bcfg, a.member)
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
// user per identity of the matrix with its permissions, nobody else. It
// follows the credentials folder until the bridge stops: rotated keys and
// CAs are taken up, revoked identities refused and their connections
// closed.
func (a *App) startEmbedded(cfg Config, creds *credentials) error {
	host, port, err := splitHostPort(cfg.NATSListen)
	if err != nil {
		return fmt.Errorf("--nats-listen: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	live := natsauth.NewLive(creds.matrix, cfg.MeshDir, cfg.Logger)
	a.embed, err = embednats.Start(embednats.Config{
		Host: host, Port: port, StoreDir: cfg.DataDir, ServerName: "broker-bridge", Tune: live.Tune,
	})
	if err != nil {
		return err
	}
	a.natsURL = a.embed.ClientURL()
	ctx, cancel := context.WithCancel(context.Background())
	a.stopFollow, a.followed = cancel, make(chan struct{})
	go func() {
		defer close(a.followed)
		live.Watch(ctx, a.embed, mesh.DefaultReloadInterval)
	}()
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
// requests in flight finished, on every listener), then closes its
// membership of the mesh (the trace events still held are published, the
// NATS connection drained) and shuts the embedded server down. It returns
// the errors of these steps.
func (a *App) Wait() error {
	err := <-a.served
	for _, done := range a.sides {
		err = errors.Join(err, <-done)
	}
	if a.exported != nil { // it sends what it holds, then ends
		err = errors.Join(err, <-a.exported)
	}
	a.log.Info("bridge stopped serving; flushing trace events, then draining NATS")
	return errors.Join(err, a.stopNATS())
}

// stopNATS closes the membership of the mesh, if any, and stops the
// embedded server, if any.
func (a *App) stopNATS() error {
	var err error
	if a.member != nil {
		err = a.member.Close(context.Background())
	}
	if a.stopFollow != nil {
		a.stopFollow()
		<-a.followed
	}
	if a.embed != nil {
		a.embed.Shutdown()
		a.embed.WaitForShutdown()
		a.log.Info("embedded NATS stopped")
	}
	return err
}
