package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// HeaderRoom is the part of the NATS max payload kept for headers when the
// body limit is fitted to it (the sidecar fits the app's replies the same way).
const HeaderRoom = 16 << 10

// Member is what the bridge needs of its membership of the mesh; a
// *mesh.Mesh, connected as the bridge's identity, is one. Its client makes
// the bridge's calls with the whole stack (the call signer acting for each
// request's caller), and its tracer records the bridge's own hop.
type Member interface {
	Identity() string
	Conn() *nats.Conn
	Client() *rpc.Client
	Tracer() trace.Emitter
	Metrics() *mesh.Metrics
}

// Bridge is the HTTP/2 entry of the mesh. It is an http.Handler; Serve runs
// it on a listener.
type Bridge struct {
	cfg      Config
	identity string
	nc       *nats.Conn
	js       jetstream.JetStream
	client   *rpc.Client
	tracer   trace.Emitter
	disc     *discovery
	screen   *trace.Screen // what the trace readers withhold

	metricsHandler, uiHandler http.Handler
	log                       *slog.Logger
	maxBody                   int64
}

// New returns a Bridge that calls booths as member. It does not own the
// member: the caller closes it after Serve returns.
func New(cfg Config, member Member) (*Bridge, error) {
	if member == nil || member.Conn() == nil {
		return nil, fmt.Errorf("%w: no mesh member", ErrConfig)
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nc := member.Conn()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	b := &Bridge{
		cfg: cfg, identity: member.Identity(), nc: nc, js: js, client: member.Client(), tracer: member.Tracer(),
		log: cfg.Logger, disc: newDiscovery(nc, &cfg),
		metricsHandler: member.Metrics().Handler(), uiHandler: ui.Handler(),
		maxBody: cfg.MaxBodyBytes, screen: trace.NewScreen(cfg.Logger),
	}
	member.Metrics().TraceScreen(b.screen)
	if limit := nc.MaxPayload() - HeaderRoom; limit > 0 && b.maxBody > limit {
		b.log.Debug("request body limit lowered to fit the NATS max payload", "configured", cfg.MaxBodyBytes, "limit", limit)
		b.maxBody = limit
	} else if limit <= 0 {
		return nil, errors.New("bridge: NATS max payload is too small for any request")
	}
	return b, nil
}

// Handler returns the bridge's HTTP handler (the Bridge itself).
func (b *Bridge) Handler() http.Handler { return b }

// MaxBodyBytes returns the request body limit in force: Config.MaxBodyBytes,
// lowered if needed to fit the NATS max payload.
func (b *Bridge) MaxBodyBytes() int64 { return b.maxBody }

// Services returns what discovery knows of the mesh's services without
// sweeping.
func (b *Bridge) Services() []ServiceInfo { return b.disc.list() }
