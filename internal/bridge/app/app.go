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
	member  *mesh.Mesh
	served  chan error // Serve's result
	// monitorAddr and monitored are the monitoring listener's address and
	// ServeMonitor's result; nil without --monitor-listen.
	monitorAddr net.Addr
	monitored   chan error
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
	if err := a.ensureTraceStream(ctx, cfg); err != nil {
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
	var mln net.Listener
	if cfg.MonitorListen != "" {
		if mln, err = net.Listen("tcp", cfg.MonitorListen); err != nil {
			ln.Close()
			return nil, fmt.Errorf("--monitor-listen: %w", err)
		}
		a.monitorAddr, a.monitored = mln.Addr(), make(chan error, 1)
		go func() { a.monitored <- b.ServeMonitor(ctx, mln) }()
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
	return a, nil
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

// Addr returns the address the bridge listens on.
func (a *App) Addr() net.Addr { return a.addr }

// NATSURL returns the URL of the NATS server the bridge uses (the embedded
// one's when it runs one).
func (a *App) NATSURL() string { return a.natsURL }

// Wait blocks until the bridge has stopped serving (its ctx ended and the
// requests in flight finished, on both listeners), then closes its
// membership of the mesh (the trace events still held are published, the
// NATS connection drained) and shuts the embedded server down. It returns
// the errors of these steps.
func (a *App) Wait() error {
	err := <-a.served
	if a.monitored != nil {
		err = errors.Join(err, <-a.monitored)
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
	if a.embed != nil {
		a.embed.Shutdown()
		a.embed.WaitForShutdown()
		a.log.Info("embedded NATS stopped")
	}
	return err
}
