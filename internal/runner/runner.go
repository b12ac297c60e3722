package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/sidecar"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Runner is a set of running booths, each a member of the mesh as its own
// identity (its own connection and trace publisher), measured by one set of
// metrics.
type Runner struct {
	cfg     Config
	members []*mesh.Mesh
	booths  []*rpc.Booth
	sidecar *sidecar.Sidecar // nil unless Config.Sidecar
	metrics *mesh.Metrics
	server  *httpServer // nil without MetricsListen
	health  *httpServer // nil without HealthListen
	// serving is set once every booth serves, stopping when Stop begins:
	// /readyz reads them.
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
	mx, err := cfg.matrix()
	if err != nil {
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
	m, err := mesh.NewMetrics()
	if err != nil {
		return nil, err
	}
	bcfg.Metrics = m.Registry()
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
	if cfg.Sidecar != nil {
		if err := r.startSidecar(ctx, mx); err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
		r.serving.Store(true)
		return r, nil
	}
	for _, name := range names {
		if err := r.start(ctx, name, mx, bcfg); err != nil {
			return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
		}
	}
	r.serving.Store(true)
	cfg.Logger.Info("booths serving", "booths", names, "nats", cfg.NATSURL, "instance", cfg.InstanceName)
	return r, nil
}

// join connects to the mesh as identity, measured in the runner's metrics.
func (r *Runner) join(ctx context.Context, identity, connName string, mx *matrix.Matrix) (*mesh.Mesh, error) {
	cfg := r.cfg
	member, err := mesh.Connect(ctx, mesh.Config{
		Identity: identity, Credentials: cfg.Credentials, Matrix: mx, NATSURL: cfg.NATSURL,
		Instance: cfg.InstanceName, Metrics: r.metrics, Logger: cfg.Logger,
		DrainTimeout: cfg.DrainTimeout, FlushTimeout: cfg.FlushTimeout,
		NATSOptions:           []nats.Option{nats.Name(connName)},
		InsecureNoCredentials: cfg.InsecureNoCredentials,
	})
	if err != nil {
		return nil, credentialsHint(cfg, fmt.Errorf("%s: %w", identity, err))
	}
	r.members = append(r.members, member)
	return member, nil
}

// startSidecar joins the mesh as the app's identity and starts its sidecar.
func (r *Runner) startSidecar(ctx context.Context, mx *matrix.Matrix) error {
	member, err := r.join(ctx, r.cfg.Identity, "booth-runner/sidecar/"+r.cfg.Identity, mx)
	if err != nil {
		return err
	}
	scfg := *r.cfg.Sidecar
	if scfg.Logger == nil {
		scfg.Logger = r.cfg.Logger
	}
	if r.sidecar, err = sidecar.Start(ctx, member, scfg); err != nil {
		return fmt.Errorf("sidecar of %s: %w", r.cfg.Identity, err)
	}
	r.booths = append(r.booths, r.sidecar.Booth())
	return nil
}

// SidecarAddr returns the address of the sidecar's outbound endpoint, or
// nil when no sidecar runs.
func (r *Runner) SidecarAddr() net.Addr {
	if r.sidecar == nil {
		return nil
	}
	return r.sidecar.Addr()
}

// start joins the mesh as booth and starts it.
func (r *Runner) start(ctx context.Context, booth string, mx *matrix.Matrix, bcfg booths.Config) error {
	cfg := r.cfg
	member, err := r.join(ctx, booth, "booth-runner/"+booth, mx)
	if err != nil {
		return err
	}
	bcfg.NewBooth = member.NewBooth
	if cfg.BoothOptions != nil {
		if bcfg.BoothOptions, err = cfg.BoothOptions(booth); err != nil {
			return fmt.Errorf("options of %s: %w", booth, err)
		}
	}
	b, err := booths.Start(ctx, member.Conn(), booth, bcfg)
	if err != nil {
		return fmt.Errorf("starting %s: %w", booth, err)
	}
	r.booths = append(r.booths, b)
	return nil
}

// matrix loads the matrix, once for every booth; nil without credentials.
func (c Config) matrix() (*matrix.Matrix, error) {
	if c.InsecureNoCredentials || c.Matrix != nil {
		return c.Matrix, nil
	}
	if dir := c.Credentials.Dir; dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, credentialsHint(c, fmt.Errorf("%w: --mesh-dir %s does not exist", ErrNoCredentials, dir))
		}
	}
	mx, err := c.Credentials.LoadMatrix(c.MatrixFile)
	if errors.Is(err, mesh.ErrConfig) {
		return nil, fmt.Errorf("%w: --matrix: %w", ErrConfig, err)
	}
	return mx, credentialsHint(c, err)
}

// credentialsHint adds to a missing or unreadable credential the command
// that makes them.
func credentialsHint(c Config, err error) error {
	if !errors.Is(err, ErrNoCredentials) {
		return err
	}
	dir := c.Credentials.Dir
	if dir == "" {
		dir = ".mesh"
	}
	return fmt.Errorf("%w; create them with \"meshctl init --dir %s\" (\"make run\" does it)", err, dir)
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
func (r *Runner) Metrics() *mesh.Metrics { return r.metrics }

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

// Stop stops the sidecar, if any (its booth drains while the app's
// outbound calls still go through), then closes every booth's membership at
// once: each drains its booth within the drain timeout (and ctx), publishes
// the trace events it left (within the flush timeout) and closes its
// connection; /metrics and the health probes are served until the last
// (/readyz answers 503 from the start of the drain). Requests in flight
// finish and are answered; new ones go to other instances.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopping.Store(true)
	var first error
	if r.sidecar != nil {
		sctx, cancel := context.WithTimeout(ctx, r.cfg.DrainTimeout)
		first = r.sidecar.Stop(sctx)
		cancel()
	}
	errs := make([]error, len(r.members), len(r.members)+3)
	var wg sync.WaitGroup
	for i, m := range r.members {
		wg.Go(func() {
			if err := m.Close(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", m.Identity(), err)
			}
		})
	}
	wg.Wait()
	for _, s := range []*httpServer{r.server, r.health} {
		if s != nil {
			sctx, cancel := context.WithTimeout(ctx, r.cfg.DrainTimeout)
			errs = append(errs, s.stop(sctx))
			cancel()
		}
	}
	return errors.Join(append(errs, first)...)
}
