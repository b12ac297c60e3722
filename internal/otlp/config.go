package otlp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Defaults of Config.
const (
	DefaultBatchSize     = 512
	DefaultFlushInterval = time.Second
	DefaultQueueSize     = 4096
	DefaultTimeout       = 10 * time.Second
	DefaultRetryFor      = 30 * time.Second
	DefaultFinalFlush    = 5 * time.Second
)

// TracesPath is the OTLP/HTTP path of traces, added to an endpoint given
// without a path.
const TracesPath = "/v1/traces"

// ErrConfig is matched by the errors of a bad Config.
var ErrConfig = errors.New("otlp: bad config")

// Config configures an Exporter. Only Endpoint is required.
type Config struct {
	// Endpoint is the OTLP/HTTP receiver: a base URL such as
	// http://127.0.0.1:4318, to which TracesPath is added, or the full URL
	// of the traces endpoint when it has a path.
	Endpoint string
	// BatchSize is the most spans one request carries (512); a batch is
	// sent when full or FlushInterval (1 s) after its first span.
	BatchSize     int
	FlushInterval time.Duration
	// QueueSize is how many events wait for a batch (4096). When it is
	// full the exporter stops reading the stream until it has room: the
	// events wait in SVC_TRACE, not in memory.
	QueueSize int
	// Timeout bounds one request (10 s). RetryFor is how long a batch is
	// retried, with exponential backoff from 100 ms to 5 s (or the
	// endpoint's Retry-After), while the endpoint is unreachable or answers
	// 429, 502, 503 or 504 (30 s); the batch is then dropped and counted.
	Timeout  time.Duration
	RetryFor time.Duration
	// FinalFlush bounds the export of what is queued when Run's ctx ends
	// (5 s).
	FinalFlush time.Duration
	// Client makes the requests (a client with Timeout when nil).
	Client *http.Client
	// Screen counts and logs the stored events withheld because their
	// emitter may not have made them (see trace.WithScreen); nil counts
	// nothing, and they are withheld all the same.
	Screen *trace.Screen
	// Logger receives the exporter's warnings (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RetryFor == 0 {
		c.RetryFor = DefaultRetryFor
	}
	if c.FinalFlush == 0 {
		c.FinalFlush = DefaultFinalFlush
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first problem of c, after defaults are applied; the
// error wraps ErrConfig and names the field.
func (c *Config) Validate() error {
	c.setDefaults()
	if _, err := TracesURL(c.Endpoint); err != nil {
		return err
	}
	switch {
	case c.BatchSize < 1 || c.BatchSize > 100_000:
		return fmt.Errorf("%w: batch size must be 1 to 100000 spans, got %d", ErrConfig, c.BatchSize)
	case c.QueueSize < 1:
		return fmt.Errorf("%w: queue size must be at least 1 event, got %d", ErrConfig, c.QueueSize)
	case c.FlushInterval < 0, c.Timeout < 0, c.RetryFor < 0, c.FinalFlush < 0:
		return fmt.Errorf("%w: flush interval, timeout, retry and final flush durations must not be negative", ErrConfig)
	}
	return nil
}

// TracesURL returns the URL spans are posted to for endpoint: endpoint
// with TracesPath when it has no path, else endpoint itself. It must be an
// http or https URL with a host and no query.
func TracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	switch {
	case endpoint == "":
		return "", fmt.Errorf("%w: no OTLP endpoint (e.g. http://127.0.0.1:4318)", ErrConfig)
	case !strings.Contains(endpoint, "://"):
		return "", fmt.Errorf("%w: OTLP endpoint %q must be an http:// or https:// URL, e.g. http://127.0.0.1:4318", ErrConfig, endpoint)
	case err != nil:
		return "", fmt.Errorf("%w: OTLP endpoint %q: %v", ErrConfig, endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%w: OTLP endpoint %q must be an http:// or https:// URL (OTLP/HTTP; gRPC is not spoken)", ErrConfig, endpoint)
	case u.Host == "":
		return "", fmt.Errorf("%w: OTLP endpoint %q has no host", ErrConfig, endpoint)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", fmt.Errorf("%w: OTLP endpoint %q must have no query, fragment or user", ErrConfig, endpoint)
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = TracesPath
	}
	return u.String(), nil
}
