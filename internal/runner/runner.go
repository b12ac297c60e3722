package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Runner is a set of running booths, each on its own connection.
type Runner struct {
	cfg    Config
	booths []*rpc.Booth
	conns  []*nats.Conn
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
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	r := &Runner{cfg: cfg}
	for _, name := range names {
		nc, err := connect(cfg, name)
		if err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
		r.conns = append(r.conns, nc)
		own, err := cfg.boothConfig(bcfg, name)
		if err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
		b, err := booths.Start(ctx, nc, name, own)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("starting %s: %w", name, err), r.Stop(context.WithoutCancel(ctx)))
		}
		r.booths = append(r.booths, b)
	}
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

// Stop drains every booth at once, each within the drain timeout (and ctx),
// then flushes and closes the connections. Requests in flight finish and
// are answered; new ones go to other instances.
func (r *Runner) Stop(ctx context.Context) error {
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
	for _, nc := range r.conns {
		if nc.IsConnected() {
			_ = nc.FlushTimeout(r.cfg.DrainTimeout)
		}
		nc.Close()
	}
	return errors.Join(errs...)
}
