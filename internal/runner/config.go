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

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/sidecar"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Defaults of a Config.
const (
	DefaultNATSURL      = mesh.DefaultNATSURL
	DefaultDrainTimeout = mesh.DefaultDrainTimeout
	DefaultStartTimeout = 10 * time.Second
	DefaultFlushTimeout = mesh.DefaultFlushTimeout
	// DefaultMetricsListen is the metrics address make run gives
	// booth-runner; the process serves none unless told.
	DefaultMetricsListen = "127.0.0.1:9464"
)

// ErrConfig is matched by the error Run returns for a Config it cannot use.
var ErrConfig = errors.New("booth-runner config")

// ErrNoCredentials is matched by the error Start returns when the
// credentials are missing or incomplete.
var ErrNoCredentials = mesh.ErrNoCredentials

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
	// Replicas is how many copies of their stores the booths expect: 1 on
	// a single server (the default), 3 on a cluster. Booths only bind
	// their stores, so one that keeps fewer is logged, not changed: the
	// provisioner (the bridge, meshctl provision) sets it.
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
	// Sidecar, when set, runs no demo booth but joins an app in any language
	// to the mesh as Identity (--sidecar, --identity).
	Sidecar  *sidecar.Config
	Identity string
	// Credentials are the booths' credentials, each booth connecting as
	// its own identity, and the folder of every identity's public NKey.
	Credentials mesh.Credentials
	// MatrixFile is the Access & Authorization Matrix every call's token is
	// checked against; Matrix, when set, is used instead (with its keys).
	MatrixFile string
	Matrix     *matrix.Matrix
	// InsecureNoCredentials runs the booths without TLS, NKeys or call
	// tokens, on a NATS server that admits anyone: for tests only.
	InsecureNoCredentials bool
	// BoothOptions returns more rpc options of one booth, after the mesh's
	// stack (a middleware there runs inside the call token check). None
	// when nil.
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
	case c.Sidecar != nil && (c.Demo || len(c.Booths) > 0):
		return fmt.Errorf("%w: --sidecar joins one app to the mesh; do not combine it with --demo or --booth", ErrConfig)
	case c.Sidecar != nil && c.Identity == "":
		return fmt.Errorf("%w: --sidecar needs --identity: the app's identity in the matrix", ErrConfig)
	case c.Sidecar == nil && c.Identity != "":
		return fmt.Errorf("%w: --identity only applies with --sidecar (a demo booth is its own identity)", ErrConfig)
	case c.Demo && len(c.Booths) > 0:
		return fmt.Errorf("%w: --demo runs every demo booth; do not combine it with --booth", ErrConfig)
	case c.Sidecar == nil && !c.Demo && len(c.Booths) == 0:
		return fmt.Errorf("%w: nothing to run: give --demo, --booth NAME (one of %s) or --sidecar", ErrConfig, known)
	case c.StartTimeout < 0 || c.DrainTimeout < 0 || c.FlushTimeout < 0:
		return fmt.Errorf("%w: start, drain and flush timeouts must be positive", ErrConfig)
	case !c.InsecureNoCredentials && c.Matrix == nil && c.MatrixFile == "":
		return fmt.Errorf("%w: no --matrix: every call's token is checked against it", ErrConfig)
	case c.Replicas < 0 || c.Replicas > booths.MaxReplicas:
		return fmt.Errorf("%w: --replicas must be 1 to %d (1 on a single server, 3 on a cluster), got %d",
			ErrConfig, booths.MaxReplicas, c.Replicas)
	}
	if c.Sidecar != nil {
		if err := c.Sidecar.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
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

// boothNames returns the booths c runs.
func (c Config) boothNames() []string {
	if c.Demo {
		return slices.Clone(booths.Names)
	}
	return slices.Clone(c.Booths)
}
