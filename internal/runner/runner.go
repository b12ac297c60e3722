package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Runner is a set of running booths, each on its own connection with its
// own trace publisher, measured by one set of metrics.
type Runner struct {
	cfg     Config
	booths  []*rpc.Booth
	conns   []*nats.Conn
	pubs    []*trace.Publisher
	metrics *metrics.Metrics
	server  *httpServer // nil without MetricsListen
	health  *httpServer // nil without HealthListen
	// serving is set once every booth serves, stopping when Stop begins:
	// /readyz reads them (and conns only once serving is set).
	serving, stopping atomic.Bool
}

// Run starts the booths cfg names, serves until ctx ends, then drains them
// (each within cfg.DrainTimeout) and closes their connections. It returns
// nil after a clean drain; a Config it cannot use is an ErrConfig error
// returned before anything connects.
func Run(ctx context.Context, cfg Config) error {
	r, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	r.cfg.Logger.Info("stopping: draining booths", "booths", r.Names())
	return r.Stop(context.WithoutCancel(ctx))
}

// Start connects and starts the booths cfg names and returns them serving.
// If one fails, those already started are stopped and the error names it.
func Start(ctx context.Context, cfg Config) (*Runner, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names := cfg.boothNames()
	bcfg := booths.Config{FeeTable: cfg.FeeTable, Logger: cfg.Logger, Instance: cfg.InstanceName, Replicas: cfg.Replicas}
	if slices.Contains(names, "audit-log") {
		key, err := auditKey(cfg.AuditKeyFile, cfg.Logger)
		if err != nil {
			return nil, err
		}
		bcfg.AuditKey = key
	}
	m, err := newMetrics()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	r := &Runner{cfg: cfg, metrics: m}
	if cfg.MetricsListen != "" {
		if r.server, err = serveMetrics(cfg.MetricsListen, m, cfg.Logger); err != nil {
			return nil, err
		}
	}
	if cfg.HealthListen != "" {
		if r.health, err = serveHealth(cfg.HealthListen, r, cfg.Logger); err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
	}
	for _, name := range names {
		nc, err := connect(cfg, name)
		if err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
		r.conns = append(r.conns, nc)
		pub, observed, err := observe(nc, m, name, cfg.InstanceName)
		if err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
		r.pubs = append(r.pubs, pub)
		withObserver := bcfg
		withObserver.BoothOptions = append([]rpc.BoothOption{observed}, bcfg.BoothOptions...)
		own, err := cfg.boothConfig(withObserver, name)
		if err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
		b, err := booths.Start(ctx, nc, name, own)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("starting %s: %w", name, err), r.Stop(context.WithoutCancel(ctx)))
		}
		r.booths = append(r.booths, b)
	}
	r.serving.Store(true)
	cfg.Logger.Info("booths serving", "booths", names, "nats", cfg.NATSURL, "instance", cfg.InstanceName)
	return r, nil
}

// Names returns the names of the running booths.
func (r *Runner) Names() []string {
	names := make([]string, len(r.booths))
	for i, b := range r.booths {
		names[i] = b.Name()
	}
	return names
}

// Metrics returns the process's metrics.
func (r *Runner) Metrics() *metrics.Metrics { return r.metrics }

// HealthAddr returns the address /healthz and /readyz are served on, or
// nil when Config.HealthListen is empty.
func (r *Runner) HealthAddr() net.Addr {
	if r.health == nil {
		return nil
	}
	return r.health.addr
}

// MetricsAddr returns the address /metrics is served on, or nil when
// Config.MetricsListen is empty.
func (r *Runner) MetricsAddr() net.Addr {
	if r.server == nil {
		return nil
	}
	return r.server.addr
}

// Stop drains every booth at once, each within the drain timeout (and ctx),
// then publishes the trace events they left (within the flush timeout),
// flushes and closes the connections, and stops serving /metrics and the
// health probes last (/readyz answers 503 from the start of the drain).
// Requests in flight finish and are answered; new ones go to other
// instances.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopping.Store(true)
	errs := make([]error, len(r.booths))
	var wg sync.WaitGroup
	for i, b := range r.booths {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, r.cfg.DrainTimeout)
			defer cancel()
			if err := b.Stop(ctx); err != nil {
				errs[i] = fmt.Errorf("draining %s: %w", b.Name(), err)
			}
		})
	}
	wg.Wait()
	r.flushTraces(ctx)
	for _, nc := range r.conns {
		if nc.IsConnected() {
			_ = nc.FlushTimeout(r.cfg.DrainTimeout)
		}
		nc.Close()
	}
	for _, s := range []*httpServer{r.server, r.health} {
		if s != nil {
			sctx, cancel := context.WithTimeout(ctx, r.cfg.DrainTimeout)
			errs = append(errs, s.stop(sctx))
			cancel()
		}
	}
	return errors.Join(errs...)
}

// flushTraces closes every trace publisher at once, each publishing what
// it holds within the flush timeout. What is left then is dropped: it is
// counted (hms_svc_trace_events_dropped_total) and logged, but does not
// fail the stop, since the booths themselves stopped cleanly.
func (r *Runner) flushTraces(ctx context.Context) {
	var wg sync.WaitGroup
	for _, pub := range r.pubs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, r.cfg.FlushTimeout)
			defer cancel()
			err := pub.Close(ctx)
			if s := pub.Stats(); err != nil || s.DroppedFull+s.DroppedFailed+s.DroppedInvalid > 0 {
				r.cfg.Logger.Warn("trace events dropped", "subject", pub.Subject(), "published", s.Published,
					"full", s.DroppedFull, "failed", s.DroppedFailed, "invalid", s.DroppedInvalid,
					"last_error", s.LastError, "flush", err)
			}
		})
	}
	wg.Wait()
}
