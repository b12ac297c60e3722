package bridge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultCallTimeout       = 5 * time.Second
	DefaultMaxCallTimeout    = 30 * time.Second
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	// DefaultIdleTimeout also bounds an HTTP/2 connection that never
	// finishes its first headers, so it is kept short.
	DefaultIdleTimeout          = 30 * time.Second
	DefaultMaxHeaderBytes       = 64 << 10
	DefaultMaxConcurrentStreams = 250
	DefaultShutdownTimeout      = 15 * time.Second
	DefaultDiscoveryWindow      = 250 * time.Millisecond
	DefaultDiscoveryQuiet       = 50 * time.Millisecond
	DefaultDiscoveryMinInterval = time.Second
	DefaultDiscoveryRefresh     = 30 * time.Second
	DefaultDiscoveryForget      = time.Hour
	DefaultLicenseBucket        = "LICENSES"
	DefaultIdentity             = "bridge"
	DefaultSSEHeartbeat         = 15 * time.Second
)

// ErrConfig is matched by every error Validate returns.
var ErrConfig = errors.New("bridge: bad config")

// Config says how a Bridge behaves. The zero value, with TLS or InsecureH2C
// and Caller set, is usable: setDefaults fills every limit.
type Config struct {
	// MaxBodyBytes bounds a call's request body (1 MiB); a larger one is
	// refused with 413. It is lowered to fit the NATS connection's max
	// payload.
	MaxBodyBytes int64
	// CallTimeout is a call's budget when the request sets none (5 s);
	// MaxCallTimeout caps the budget a request may ask for (30 s).
	CallTimeout    time.Duration
	MaxCallTimeout time.Duration

	// Limits of the HTTP server.
	ReadHeaderTimeout    time.Duration
	ReadTimeout          time.Duration
	WriteTimeout         time.Duration
	IdleTimeout          time.Duration
	MaxHeaderBytes       int
	MaxConcurrentStreams int
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// once its ctx ends (15 s).
	ShutdownTimeout time.Duration

	// DiscoveryWindow is the longest a discovery sweep waits for $SRV.INFO
	// replies (250 ms); DiscoveryQuiet ends it early once no reply came for
	// that long after the last one (50 ms). DiscoveryMinInterval rate-limits
	// sweeps triggered by unknown services or paths (1 s); DiscoveryRefresh
	// is the period of the background sweep run by Serve (30 s). A service
	// no sweep has seen for DiscoveryForget (1 h) is forgotten.
	DiscoveryWindow      time.Duration
	DiscoveryQuiet       time.Duration
	DiscoveryMinInterval time.Duration
	DiscoveryRefresh     time.Duration
	DiscoveryForget      time.Duration

	// SSEHeartbeat is how often an idle live trace stream gets a heartbeat
	// comment (15 s), which keeps it open through proxies and notices a
	// client that went away.
	SSEHeartbeat time.Duration

	// LicenseBucket is the JetStream object store license PDFs are read
	// from ("LICENSES").
	LicenseBucket string

	// TLS, when set, serves HTTPS with HTTP/2 (and HTTP/1.1 unless
	// DisableHTTP1). It must hold the server certificate; set ClientAuth
	// and ClientCAs in it to require client certificates.
	TLS *tls.Config
	// InsecureH2C serves cleartext HTTP/2 (prior knowledge) instead; Serve
	// refuses it on a listener that is not loopback. Exactly one of TLS and
	// InsecureH2C must be set.
	InsecureH2C bool
	// DisableHTTP1 refuses HTTP/1.1 clients; by default they are served too
	// (health probes, curl).
	DisableHTTP1 bool

	// CallOnly serves only calls (/v1/call/...) and the health probes, with
	// no discovery: a call to a service no instance serves is answered 503
	// by the client, and /readyz checks the NATS connection alone. It is
	// the sidecar's local endpoint, whose identity may call what the matrix
	// grants it and read nothing of the mesh.
	CallOnly bool
	// Caller says whom each request calls the mesh for (required): the
	// identity of its verified client certificate (ClientCertificate), or
	// one fixed identity on cleartext h2c (ActAs). The request is refused
	// when it fails, and otherwise its calls are signed for that identity
	// with the bridge's own as the actor (calltoken.OnBehalfOf); a Caller
	// that names the bridge's own identity calls as itself.
	Caller CallerFunc
	// Logger receives the bridge's logs (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	setDefault(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.CallTimeout, DefaultCallTimeout)
	setDefault(&c.MaxCallTimeout, DefaultMaxCallTimeout)
	setDefault(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&c.ReadTimeout, DefaultReadTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&c.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.DiscoveryWindow, DefaultDiscoveryWindow)
	setDefault(&c.DiscoveryQuiet, DefaultDiscoveryQuiet)
	setDefault(&c.DiscoveryMinInterval, DefaultDiscoveryMinInterval)
	setDefault(&c.DiscoveryRefresh, DefaultDiscoveryRefresh)
	setDefault(&c.DiscoveryForget, DefaultDiscoveryForget)
	setDefault(&c.SSEHeartbeat, DefaultSSEHeartbeat)
	setDefault(&c.LicenseBucket, DefaultLicenseBucket)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Validate reports the first problem of c, after defaults are applied.
func (c *Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"CallTimeout", c.CallTimeout}, {"MaxCallTimeout", c.MaxCallTimeout},
		{"ReadHeaderTimeout", c.ReadHeaderTimeout}, {"ReadTimeout", c.ReadTimeout},
		{"WriteTimeout", c.WriteTimeout}, {"IdleTimeout", c.IdleTimeout},
		{"ShutdownTimeout", c.ShutdownTimeout},
		{"DiscoveryWindow", c.DiscoveryWindow}, {"DiscoveryQuiet", c.DiscoveryQuiet},
		{"DiscoveryMinInterval", c.DiscoveryMinInterval}, {"DiscoveryRefresh", c.DiscoveryRefresh},
		{"DiscoveryForget", c.DiscoveryForget}, {"SSEHeartbeat", c.SSEHeartbeat},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%w: %s must be positive, got %v", ErrConfig, d.name, d.v)
		}
	}
	switch {
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("%w: MaxBodyBytes must be positive, got %d", ErrConfig, c.MaxBodyBytes)
	case c.MaxHeaderBytes <= 0:
		return fmt.Errorf("%w: MaxHeaderBytes must be positive, got %d", ErrConfig, c.MaxHeaderBytes)
	case c.MaxConcurrentStreams <= 0:
		return fmt.Errorf("%w: MaxConcurrentStreams must be positive, got %d", ErrConfig, c.MaxConcurrentStreams)
	case c.CallTimeout > c.MaxCallTimeout:
		return fmt.Errorf("%w: CallTimeout %v is above MaxCallTimeout %v", ErrConfig, c.CallTimeout, c.MaxCallTimeout)
	case c.DiscoveryQuiet > c.DiscoveryWindow:
		return fmt.Errorf("%w: DiscoveryQuiet %v is above DiscoveryWindow %v", ErrConfig, c.DiscoveryQuiet, c.DiscoveryWindow)
	case !validLicenseID(c.LicenseBucket):
		return fmt.Errorf("%w: LicenseBucket %q must match [A-Za-z0-9-]{1,64}", ErrConfig, c.LicenseBucket)
	case c.TLS == nil && !c.InsecureH2C:
		return fmt.Errorf("%w: no transport security: set TLS (a server certificate), or InsecureH2C for cleartext HTTP/2 on a loopback listener", ErrConfig)
	case c.TLS != nil && c.InsecureH2C:
		return fmt.Errorf("%w: TLS and InsecureH2C are exclusive", ErrConfig)
	case c.TLS != nil && len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil && c.TLS.GetConfigForClient == nil:
		return fmt.Errorf("%w: TLS has no server certificate", ErrConfig)
	case c.Caller == nil:
		return fmt.Errorf("%w: no Caller: set ClientCertificate to call for the identity of each client certificate, or ActAs on cleartext h2c", ErrConfig)
	}
	return nil
}
