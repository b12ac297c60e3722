package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// headerRoom is the part of the NATS max payload kept for headers when the
// body limit is fitted to it.
const headerRoom = 16 << 10

// Bridge is the HTTP/2 entry of the mesh. It is an http.Handler; Serve runs
// it on a listener.
type Bridge struct {
	cfg     Config
	nc      *nats.Conn
	js      jetstream.JetStream
	client  *rpc.Client
	metrics *metrics.Metrics
	disc    *discovery
	screen  *trace.Screen // what the trace readers withhold

	metricsHandler, uiHandler http.Handler
	log                       *slog.Logger
	maxBody                   int64
}

// New returns a Bridge that calls booths over nc. It does not own nc: the
// caller closes (drains) it after Serve returns.
func New(cfg Config, nc *nats.Conn) (*Bridge, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrConfig)
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := cfg.Metrics
	if m == nil {
		var err error
		if m, err = metrics.New(); err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
	}
	client, err := rpc.NewClient(nc, append(clientOptions(&cfg, m), cfg.ClientOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	b := &Bridge{
		cfg: cfg, nc: nc, js: js, client: client, metrics: m, log: cfg.Logger,
		disc:           newDiscovery(nc, &cfg),
		metricsHandler: m.Handler(), uiHandler: ui.Handler(),
		maxBody: cfg.MaxBodyBytes, screen: trace.NewScreen(cfg.Logger),
	}
	m.TraceScreen(b.screen)
	if limit := nc.MaxPayload() - headerRoom; limit > 0 && b.maxBody > limit {
		b.log.Debug("request body limit lowered to fit the NATS max payload", "configured", cfg.MaxBodyBytes, "limit", limit)
		b.maxBody = limit
	} else if limit <= 0 {
		return nil, errors.New("bridge: NATS max payload is too small for any request")
	}
	return b, nil
}

// clientOptions are the bridge's own options of its rpc client: each
// logical call measured once, outside the breaker and retries; the breaker
// of the product brief, its changes counted; and each attempt counted and
// traced as a child of the request's server span. Options in
// Config.ClientOptions come after these, so the call signer's attempt
// middleware runs inside the tracing: an attempt refused for want of a
// token is still traced and counted.
func clientOptions(cfg *Config, m *metrics.Metrics) []rpc.Option {
	return []rpc.Option{
		rpc.WithCaller(cfg.Identity),
		rpc.WithCallMiddleware(m.ClientMiddleware()),
		rpc.WithBreaker(rpc.BreakerSettings{
			Failures: rpc.DefaultBreakerFailures, OpenFor: rpc.DefaultBreakerOpenFor,
			HalfOpenCalls: rpc.DefaultBreakerHalfOpens, OnStateChange: m.BreakerStateChange,
		}),
		rpc.WithAttemptMiddleware(m.AttemptMiddleware(), trace.ClientMiddleware(cfg.Trace, cfg.Identity)),
	}
}

// Handler returns the bridge's HTTP handler (the Bridge itself).
func (b *Bridge) Handler() http.Handler { return b }

// MaxBodyBytes returns the request body limit in force: Config.MaxBodyBytes,
// lowered if needed to fit the NATS max payload.
func (b *Bridge) MaxBodyBytes() int64 { return b.maxBody }

// Services returns what discovery knows of the mesh's services without
// sweeping.
func (b *Bridge) Services() []ServiceInfo { return b.disc.list() }
