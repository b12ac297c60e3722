package sidecar

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// Defaults of a Config.
const (
	DefaultListen      = "127.0.0.1:3500"
	DefaultConcurrency = rpc.DefaultConcurrency
	// DefaultAppTimeout bounds a call to the app when the caller sent no
	// deadline.
	DefaultAppTimeout = 30 * time.Second
	// MinAPITokenLen is the shortest API token the sidecar accepts.
	MinAPITokenLen = 16
	// UnixPrefix marks a unix socket path in Listen ("unix:/run/app/mesh.sock").
	UnixPrefix = "unix:"
)

// ErrConfig is matched by every error Validate returns.
var ErrConfig = errors.New("sidecar config")

// Endpoint is one path the app serves through the sidecar.
type Endpoint struct {
	// Path is the endpoint's path ("/calculate").
	Path string `yaml:"path"`
	// Idempotent is false for an endpoint with a side effect (a charge):
	// its answer is kept per request id, and a retry gets it replayed
	// instead of reaching the app again. True when absent.
	Idempotent *bool `yaml:"idempotent"`
}

// idempotent reports whether e may run more than once for a request id.
func (e Endpoint) idempotent() bool { return e.Idempotent == nil || *e.Idempotent }

// Config says which app the sidecar serves and where the app calls it.
type Config struct {
	// AppURL is the app's base URL, http on a loopback address
	// (--app-url, e.g. http://127.0.0.1:8090): a call to path /p is
	// POSTed to AppURL + "/p".
	AppURL string
	// Endpoints are the paths the app serves (--endpoint, --endpoints FILE).
	Endpoints []Endpoint
	// Version and Description are the booth's, shown by discovery.
	Version, Description string
	// Listen is the outbound endpoint's address: a loopback host:port
	// (--listen, DefaultListen), or UnixPrefix and a socket path.
	Listen string
	// APIToken is what the app sends as "Authorization: Bearer <token>" on
	// its outbound calls (--api-token-file, HMS_API_TOKEN); at least
	// MinAPITokenLen characters.
	APIToken string
	// Concurrency bounds the calls forwarded to the app at once.
	Concurrency int
	// AppTimeout bounds a call to the app when the caller sent no deadline.
	AppTimeout time.Duration
	// Bridge holds the outbound endpoint's limits (body size, timeouts).
	Bridge bridge.Config
	// Logger receives the sidecar's logs (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.AppTimeout == 0 {
		c.AppTimeout = DefaultAppTimeout
	}
	if c.Version == "" {
		c.Version = "0.0.0"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports, wrapping ErrConfig, the first thing wrong with c once
// defaults apply, naming the flag.
func (c Config) Validate() error {
	c.setDefaults()
	u, err := url.Parse(c.AppURL)
	switch {
	case c.AppURL == "":
		return fmt.Errorf("%w: --app-url is required: the app's loopback HTTP address, e.g. http://127.0.0.1:8090", ErrConfig)
	case err != nil:
		return fmt.Errorf("%w: --app-url %q: %v", ErrConfig, c.AppURL, err)
	case u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%w: --app-url %q must be http://host:port[/prefix] with nothing else", ErrConfig, c.AppURL)
	case !bridge.IsLoopback(u.Host):
		return fmt.Errorf("%w: --app-url %q refused: calls reach the app in cleartext, so it must be on a loopback address", ErrConfig, c.AppURL)
	case len(c.Endpoints) == 0:
		return fmt.Errorf("%w: no endpoints: give --endpoint PATH or --endpoints FILE", ErrConfig)
	case len(c.APIToken) < MinAPITokenLen:
		return fmt.Errorf("%w: an API token of at least %d characters is required (--api-token-file or HMS_API_TOKEN): the app presents it on every outbound call", ErrConfig, MinAPITokenLen)
	case c.Concurrency < 1:
		return fmt.Errorf("%w: --concurrency must be at least 1, got %d", ErrConfig, c.Concurrency)
	case c.AppTimeout < 0:
		return fmt.Errorf("%w: --app-timeout must be positive, got %v", ErrConfig, c.AppTimeout)
	}
	if err := validateListen(c.Listen); err != nil {
		return err
	}
	var seen []string
	for _, e := range c.Endpoints {
		if !strings.HasPrefix(e.Path, "/") {
			return fmt.Errorf("%w: endpoint %q must start with /", ErrConfig, e.Path)
		}
		if _, err := subjects.SplitPath(e.Path); err != nil {
			return fmt.Errorf("%w: endpoint %q: %w", ErrConfig, e.Path, err)
		}
		if slices.Contains(seen, e.Path) {
			return fmt.Errorf("%w: endpoint %s is given twice", ErrConfig, e.Path)
		}
		seen = append(seen, e.Path)
	}
	return nil
}

// validateListen checks the outbound endpoint's address: it has no TLS, so
// it is a unix socket or a loopback address.
func validateListen(addr string) error {
	if path, ok := strings.CutPrefix(addr, UnixPrefix); ok {
		if path == "" {
			return fmt.Errorf("%w: --listen %q names no socket path", ErrConfig, addr)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%w: --listen %q: %v", ErrConfig, addr, err)
	}
	if !bridge.IsLoopback(addr) {
		return fmt.Errorf("%w: --listen %q refused: the app's endpoint is cleartext, so it listens on loopback or a unix socket (%s/path) only", ErrConfig, addr, UnixPrefix)
	}
	return nil
}

// endpointsFile is the format of an endpoints file.
type endpointsFile struct {
	Endpoints []Endpoint `yaml:"endpoints"`
}

// LoadEndpoints reads the endpoints an app serves from a YAML file:
//
//	endpoints:
//	  - path: /calculate
//	  - path: /charge
//	    idempotent: false
//
// An unknown key is refused by name.
func LoadEndpoints(path string) ([]Endpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: --endpoints: %w", ErrConfig, err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	var f endpointsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: --endpoints %s: %w", ErrConfig, path, err)
	}
	if len(f.Endpoints) == 0 {
		return nil, fmt.Errorf("%w: --endpoints %s lists no endpoints", ErrConfig, path)
	}
	return f.Endpoints, nil
}
