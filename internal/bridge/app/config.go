package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/otlp"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Defaults of Config.
const (
	DefaultListen     = "127.0.0.1:8443"
	DefaultNATSListen = "127.0.0.1:4222"
	DefaultDataDir    = ".mesh/data"
	DefaultMeshDir    = ".mesh"
	DefaultMatrix     = "deployments/matrix.yaml"
	DefaultIdentity   = bridge.DefaultIdentity
	// DefaultMonitorListen is the monitoring listener make run turns on;
	// the process serves none unless --monitor-listen names one.
	DefaultMonitorListen = "127.0.0.1:8081"
	DefaultReplicas      = 1
	DefaultTraceMaxAge   = trace.DefaultMaxAge
	DefaultTraceMaxBytes = trace.DefaultMaxBytes
)

// Config is the process configuration of broker-bridge; its fields mirror
// the command's flags, which the error messages name. Security is not
// optional: the HTTPS listener requires client certificates signed by the
// mesh CA, and NATS (embedded or not) is reached with the bridge's
// certificate and NKey. Only InsecureH2C turns TLS off, on loopback only.
type Config struct {
	// Listen is the HTTP address (--listen, 127.0.0.1:8443).
	Listen string
	// NATSURL is an external NATS server (--nats), joined with the bridge
	// identity's credentials; empty starts an embedded one on NATSListen
	// (--nats-listen, 127.0.0.1:4222; port 0 picks a free port) with
	// JetStream data in DataDir (--data, .mesh/data).
	NATSURL    string
	NATSListen string
	DataDir    string
	// MeshDir is the credentials folder `meshctl init` writes (--mesh-dir,
	// .mesh); MatrixFile is the Access & Authorization Matrix (--matrix,
	// deployments/matrix.yaml).
	MeshDir    string
	MatrixFile string
	// Identity is the bridge's identity in the matrix ("bridge").
	Identity string
	// InsecureH2C serves cleartext HTTP/2 on a loopback Listen address
	// (--insecure-h2c), for benchmarks. No certificate names the client
	// there, so InsecureH2CAs (--insecure-h2c-as) must name the one
	// identity the bridge calls for, one the matrix lets it act for.
	InsecureH2C   bool
	InsecureH2CAs string
	// MonitorListen, when set (--monitor-listen, off by default), serves the
	// read-only monitoring endpoints (/ui, /v1/services, /v1/breakers, the
	// trace stream and lookup, /metrics, health) in cleartext HTTP/1.1 and
	// h2c without authentication, for a browser on this machine: it must be
	// a loopback address. The HTTPS listener serves the same endpoints to
	// the certificates the bridge may act for.
	MonitorListen string
	// HealthListen, when set (--health-listen, off by default), serves
	// /healthz and /readyz alone in cleartext without authentication, on
	// any address: a kubelet's probes present no client certificate, and
	// these answers reveal nothing.
	HealthListen string
	// Replicas (--replicas, 1) is how many copies of every store the bridge
	// provisions at start, when the matrix makes it the provisioner: 1 on
	// one server, 3 on a cluster; a store keeping more keeps them.
	Replicas int
	// TraceReplicas (--trace-replicas, as Replicas), TraceMaxAge
	// (--trace-max-age, 24 h) and TraceMaxBytes (--trace-max-bytes, 1 GiB)
	// are the SVC_TRACE stream's replicas and retention, set at every
	// start.
	TraceReplicas int
	TraceMaxAge   time.Duration
	TraceMaxBytes int64
	// OTLPEndpoint, when set (--otlp-endpoint, off by default), is an
	// OTLP/HTTP receiver (Jaeger, Tempo, an OpenTelemetry Collector; e.g.
	// http://127.0.0.1:4318) to which the bridge sends every span of
	// SVC_TRACE stored from its start on (internal/otlp).
	OTLPEndpoint string
	// Bridge holds the bridge's limits; its TLS, InsecureH2C and Caller are
	// set from the fields above.
	Bridge bridge.Config
	// ClientOptions tune the bridge's client (attempt timeout, retries)
	// after the mesh's defaults.
	ClientOptions []rpc.Option
	// Logger receives the process's logs (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.NATSListen == "" {
		c.NATSListen = DefaultNATSListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.MeshDir == "" {
		c.MeshDir = DefaultMeshDir
	}
	if c.MatrixFile == "" {
		c.MatrixFile = DefaultMatrix
	}
	if c.Identity == "" {
		c.Identity = DefaultIdentity
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.TraceReplicas == 0 {
		c.TraceReplicas = c.Replicas
	}
	if c.TraceMaxAge == 0 {
		c.TraceMaxAge = DefaultTraceMaxAge
	}
	if c.TraceMaxBytes == 0 {
		c.TraceMaxBytes = DefaultTraceMaxBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first problem of c, after defaults are applied, in
// the command's terms. It reads no file: Start checks the credentials.
func (c *Config) Validate() error {
	c.setDefaults()
	switch {
	case c.InsecureH2C && !bridge.IsLoopback(c.Listen):
		return fmt.Errorf("--insecure-h2c refused: --listen %q is not a loopback address; drop --insecure-h2c to serve HTTPS with client certificates", c.Listen)
	case c.InsecureH2CAs != "" && !c.InsecureH2C:
		return errors.New("--insecure-h2c-as only applies with --insecure-h2c: over HTTPS each client certificate names its caller")
	case c.InsecureH2C && c.InsecureH2CAs == "":
		return errors.New("--insecure-h2c needs --insecure-h2c-as IDENTITY (e.g. gateway): cleartext HTTP/2 carries no client certificate, so name the one identity the bridge calls for")
	}
	if c.InsecureH2CAs != "" {
		if err := subjects.ValidateService(c.InsecureH2CAs); err != nil {
			return fmt.Errorf("--insecure-h2c-as %q: not an identity: %v", c.InsecureH2CAs, err)
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: %v", c.Listen, err)
	}
	if err := c.validateMonitoring(); err != nil {
		return err
	}
	if c.NATSURL != "" {
		return nil
	}
	if _, _, err := splitHostPort(c.NATSListen); err != nil {
		return fmt.Errorf("--nats-listen %q: %v", c.NATSListen, err)
	}
	if !bridge.IsLoopback(c.NATSListen) {
		return fmt.Errorf("--nats-listen %q refused: the embedded NATS server serves one machine, on loopback; past one machine run a NATS cluster (meshctl nats-config) and pass --nats", c.NATSListen)
	}
	return nil
}

// validateMonitoring checks the monitoring listener and the trace stream's
// settings.
func (c *Config) validateMonitoring() error {
	if c.HealthListen != "" {
		if _, _, err := net.SplitHostPort(c.HealthListen); err != nil {
			return fmt.Errorf("--health-listen %q: %v", c.HealthListen, err)
		}
	}
	if c.MonitorListen != "" {
		if _, _, err := net.SplitHostPort(c.MonitorListen); err != nil {
			return fmt.Errorf("--monitor-listen %q: %v", c.MonitorListen, err)
		}
		if !bridge.IsLoopback(c.MonitorListen) {
			return fmt.Errorf("--monitor-listen %q refused: the monitoring listener is plain HTTP without authentication, so it serves a loopback address only (e.g. %s); elsewhere read the same endpoints on the HTTPS listener with a mesh client certificate", c.MonitorListen, DefaultMonitorListen)
		}
	}
	if c.OTLPEndpoint != "" {
		if _, err := otlp.TracesURL(c.OTLPEndpoint); err != nil {
			return fmt.Errorf("--otlp-endpoint: %w", err)
		}
	}
	switch {
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("--replicas must be 1 to 5 (1 on one server, 3 on a cluster), got %d", c.Replicas)
	case c.TraceReplicas < 1 || c.TraceReplicas > 5:
		return fmt.Errorf("--trace-replicas must be 1 to 5 (1 on one server, 3 on a cluster), got %d", c.TraceReplicas)
	case c.TraceMaxAge < time.Second:
		return fmt.Errorf("--trace-max-age must be at least 1s, got %v", c.TraceMaxAge)
	case c.TraceMaxBytes < 1<<20:
		return fmt.Errorf("--trace-max-bytes must be at least 1 MiB (1048576), got %d", c.TraceMaxBytes)
	}
	return nil
}

// splitHostPort splits a "host:port" address; port 0 means any free port,
// which embednats spells -1.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q must be a number in [0,65535]", p)
	}
	if port == 0 {
		port = -1
	}
	return host, port, nil
}
