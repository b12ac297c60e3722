package runner

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Defaults of a Config.
const (
	DefaultNATSURL      = "nats://127.0.0.1:4222"
	DefaultDrainTimeout = 10 * time.Second
	DefaultStartTimeout = 10 * time.Second
	DefaultFlushTimeout = 2 * time.Second
	// DefaultMetricsListen is the metrics address make run gives
	// booth-runner; the process serves none unless told.
	DefaultMetricsListen = "127.0.0.1:9464"
)

// ErrConfig is matched by the error Run returns for a Config it cannot use.
var ErrConfig = errors.New("booth-runner config")

// Config says which booths to run and where.
type Config struct {
	// NATSURL is the NATS server (or comma-separated servers) to join.
	NATSURL string
	// Demo runs all the demo booths (booths.Names); it excludes Booths.
	Demo bool
	// Booths names the booths to run, each once.
	Booths []string
	// FeeTable is fee-calc's fee table (booths.DefaultFeeTable).
	FeeTable string
	// AuditKeyFile holds audit-log's HMAC key for SSNs (at least
	// booths.MinAuditKeyLen bytes; surrounding white space is ignored). When
	// empty, a random key is made at start and SSN hashes do not match
	// across restarts or instances.
	AuditKeyFile string
	// InstanceName names this process in discovery metadata (host-pid).
	InstanceName string
	// Replicas is how many copies JetStream keeps of the booths' stores: 1
	// on a single server (the default), 3 on a cluster. A store that
	// already keeps more is left as it is.
	Replicas int
	// StartTimeout bounds connecting and starting the booths.
	StartTimeout time.Duration
	// DrainTimeout bounds each booth's drain at shutdown.
	DrainTimeout time.Duration
	// FlushTimeout bounds the wait, after the drain, for the booths' last
	// trace events to be stored (2 s; milliseconds when JetStream answers).
	// Events still unsent then, as when SVC_TRACE does not exist, are
	// dropped, counted and logged; the stop is not failed for them.
	FlushTimeout time.Duration
	// MetricsListen, when set, serves the process's Prometheus metrics on
	// http://<MetricsListen>/metrics (every booth's requests, latencies,
	// in-flight calls and trace publisher). It has no authentication, so it
	// must be a loopback address.
	MetricsListen string
	// HealthListen, when set, serves /healthz (the process runs) and
	// /readyz (every booth serves on a connected NATS connection; 503 while
	// starting, draining or reconnecting) on http://<HealthListen>, and
	// nothing else. The answers reveal no data, so unlike MetricsListen any
	// address will do: a kubelet probes the pod's address.
	HealthListen string
	// Identity returns the connection options that authenticate a booth as
	// its identity; IdentityOptions when nil.
	Identity func(identity string) ([]nats.Option, error)
	// BoothOptions returns the rpc options of one booth, added to its
	// booths.Config.BoothOptions: Verifiers makes each booth check every
	// call's token. None when nil.
	BoothOptions func(booth string) ([]rpc.BoothOption, error)
	// Logger receives the runner's and the booths' logs (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.NATSURL == "" {
		c.NATSURL = DefaultNATSURL
	}
	if c.FeeTable == "" {
		c.FeeTable = booths.DefaultFeeTable
	}
	if c.InstanceName == "" {
		host, _ := os.Hostname()
		c.InstanceName = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Identity == nil {
		c.Identity = IdentityOptions
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports, wrapping ErrConfig, the first thing wrong with c once
// defaults apply: nothing to run, an unknown or repeated booth, --demo with
// --booth, a timeout that is not positive, a replica count JetStream cannot
// keep.
func (c Config) Validate() error {
	c.setDefaults()
	known := strings.Join(booths.Names, ", ")
	switch {
	case c.Demo && len(c.Booths) > 0:
		return fmt.Errorf("%w: --demo runs every demo booth; do not combine it with --booth", ErrConfig)
	case !c.Demo && len(c.Booths) == 0:
		return fmt.Errorf("%w: nothing to run: give --demo or --booth NAME (one of %s)", ErrConfig, known)
	case c.StartTimeout < 0 || c.DrainTimeout < 0 || c.FlushTimeout < 0:
		return fmt.Errorf("%w: start, drain and flush timeouts must be positive", ErrConfig)
	case c.Replicas < 0 || c.Replicas > booths.MaxReplicas:
		return fmt.Errorf("%w: --replicas must be 1 to %d (1 on a single server, 3 on a cluster), got %d",
			ErrConfig, booths.MaxReplicas, c.Replicas)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("%w: --metrics-listen %q: %v", ErrConfig, c.MetricsListen, err)
		}
		if !isLoopback(c.MetricsListen) {
			return fmt.Errorf("%w: --metrics-listen %q refused: /metrics has no authentication, so it serves a loopback address only (e.g. %s)",
				ErrConfig, c.MetricsListen, DefaultMetricsListen)
		}
	}
	if c.HealthListen != "" {
		if _, _, err := net.SplitHostPort(c.HealthListen); err != nil {
			return fmt.Errorf("%w: --health-listen %q: %v", ErrConfig, c.HealthListen, err)
		}
	}
	for i, name := range c.Booths {
		if !slices.Contains(booths.Names, name) {
			return fmt.Errorf("%w: unknown booth %q: known booths are %s", ErrConfig, name, known)
		}
		if slices.Contains(c.Booths[:i], name) {
			return fmt.Errorf("%w: booth %q is given twice; run more instances as more processes", ErrConfig, name)
		}
	}
	return nil
}

// boothConfig returns base with booth's own BoothOptions added (its call
// verifier).
func (c Config) boothConfig(base booths.Config, booth string) (booths.Config, error) {
	if c.BoothOptions == nil {
		return base, nil
	}
	opts, err := c.BoothOptions(booth)
	if err != nil {
		return base, fmt.Errorf("options of %s: %w", booth, err)
	}
	base.BoothOptions = append(slices.Clone(base.BoothOptions), opts...)
	return base, nil
}

// boothNames returns the booths c runs.
func (c Config) boothNames() []string {
	if c.Demo {
		return slices.Clone(booths.Names)
	}
	return slices.Clone(c.Booths)
}
