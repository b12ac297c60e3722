package mesh

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Defaults of a Config.
const (
	DefaultNATSURL        = "nats://127.0.0.1:4222"
	DefaultConnectTimeout = 10 * time.Second
	DefaultDrainTimeout   = 10 * time.Second
	// DefaultFlushTimeout bounds the wait at Close for the last trace
	// events to be stored (milliseconds when JetStream answers).
	DefaultFlushTimeout = 2 * time.Second
)

// ErrConfig is matched by the error Connect returns for a Config it cannot
// use; the error names the field and its environment variable.
var ErrConfig = errors.New("mesh: bad config")

// Config says who a process is in the mesh and where the mesh is. Identity
// and credentials are required: there is no anonymous mode, except the one
// InsecureNoCredentials names.
type Config struct {
	// Identity is the process's identity in the matrix (HMS_IDENTITY):
	// the booth's service name, or "gateway", "bridge"...
	Identity string
	// Credentials are the identity's certificate, key and NKey, and the
	// public NKeys of the others.
	Credentials Credentials
	// MatrixFile is the Access & Authorization Matrix (HMS_MATRIX), read
	// with the public NKeys in Credentials.KeysDir; Matrix, when set, is
	// used instead as it is, keys included (Credentials.LoadMatrix makes
	// one to share between the Meshes of a process). One is required.
	MatrixFile string
	Matrix     *matrix.Matrix
	// NATSURL is the NATS server, or comma-separated servers of a cluster
	// (HMS_NATS_URL, DefaultNATSURL).
	NATSURL string
	// Instance names this process in discovery metadata and trace events
	// (HMS_INSTANCE; host-pid).
	Instance string
	// Metrics receives the measurements of every call and booth of this
	// Mesh; several Meshes of one process may share one. NewMetrics when
	// nil.
	Metrics *Metrics
	// Logger receives the mesh's logs (slog.Default()).
	Logger *slog.Logger
	// ConnectTimeout bounds connecting; DrainTimeout each booth's drain at
	// Close; FlushTimeout the wait for the last trace events.
	ConnectTimeout, DrainTimeout, FlushTimeout time.Duration
	// ReloadInterval is how often the credential files are checked for a
	// change, which the Mesh then reloads (see Reload):
	// DefaultReloadInterval; negative never checks.
	ReloadInterval time.Duration
	// NATSOptions are added to the connection's options (after the mesh's
	// own, so a nats.Name here wins).
	NATSOptions []nats.Option
	// ClientOptions are added to every client's rpc options after the
	// mesh's defaults (timeouts, retries, breaker settings). The stack's
	// middlewares are the mesh's: a client or booth middleware here runs
	// inside them.
	ClientOptions []rpc.Option
	// TraceSwitch, when set, turns tracing (trace context and events) on
	// while it holds true and off while it holds false, at run time; nil
	// traces always.
	TraceSwitch *atomic.Bool
	// InsecureNoCredentials connects without TLS, NKey or call tokens, to a
	// NATS server that admits anonymous clients: for tests against a bare
	// server only. Booths then take every call unchecked.
	InsecureNoCredentials bool
}

// Environment variables read by ConfigFromEnv.
const (
	EnvIdentity = "HMS_IDENTITY"
	EnvMeshDir  = "HMS_MESH_DIR"
	EnvCAFile   = "HMS_CA_FILE"
	EnvCertFile = "HMS_CERT_FILE"
	EnvKeyFile  = "HMS_KEY_FILE"
	EnvNKeyFile = "HMS_NKEY_FILE"
	EnvKeysDir  = "HMS_KEYS_DIR"
	EnvMatrix   = "HMS_MATRIX"
	EnvNATSURL  = "HMS_NATS_URL"
	EnvInstance = "HMS_INSTANCE"
)

// ConfigFromEnv returns the Config the HMS_* environment variables give;
// set the fields a flag or the program knows over it.
func ConfigFromEnv() Config {
	return Config{
		Identity: os.Getenv(EnvIdentity),
		Credentials: Credentials{
			Dir:    os.Getenv(EnvMeshDir),
			CAFile: os.Getenv(EnvCAFile), CertFile: os.Getenv(EnvCertFile),
			KeyFile: os.Getenv(EnvKeyFile), NKeyFile: os.Getenv(EnvNKeyFile),
			KeysDir: os.Getenv(EnvKeysDir),
		},
		MatrixFile: os.Getenv(EnvMatrix),
		NATSURL:    os.Getenv(EnvNATSURL),
		Instance:   os.Getenv(EnvInstance),
	}
}

func (c *Config) setDefaults() {
	if c.NATSURL == "" {
		c.NATSURL = DefaultNATSURL
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.ReloadInterval == 0 {
		c.ReloadInterval = DefaultReloadInterval
	}
}

// Validate reports, wrapping ErrConfig, the first thing missing or wrong in
// c once defaults apply.
func (c Config) Validate() error {
	c.setDefaults()
	switch {
	case c.Identity == "":
		return fmt.Errorf("%w: no identity: set Config.Identity (%s)", ErrConfig, EnvIdentity)
	case !validIdentity(c.Identity):
		return fmt.Errorf("%w: identity %q must match ^[a-z][a-z0-9-]{0,62}$", ErrConfig, c.Identity)
	case c.ConnectTimeout < 0 || c.DrainTimeout < 0 || c.FlushTimeout < 0:
		return fmt.Errorf("%w: connect, drain and flush timeouts must be positive", ErrConfig)
	case c.InsecureNoCredentials:
		return nil
	case c.Matrix == nil && c.MatrixFile == "":
		return fmt.Errorf("%w: no matrix: set Config.MatrixFile (%s) or Config.Matrix", ErrConfig, EnvMatrix)
	}
	return nil
}

// validIdentity reports whether id is a well-formed identity.
func validIdentity(id string) bool {
	if len(id) == 0 || len(id) > 63 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
