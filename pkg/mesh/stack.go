package mesh

import (
	"context"
	"fmt"
	"maps"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// The order of the stack, outermost first, is written here once.
//
// A client's call: metrics (each logical call measured once) -> breaker
// (its state changes counted) -> retries within the budget -> the attempt's
// deadline -> per attempt: metrics -> tracing (a client span, traceparent
// set) -> the call token -> NATS. Tracing is outside the token so that an
// attempt refused for want of a token is traced and counted too.
//
// A booth's request: recovery -> deadline (both pkg/rpc's) -> metrics ->
// tracing (a server span) -> the call token check (a refusal of a revoked
// identity counted) -> the program's own middlewares -> exactly-once
// deduplication (pkg/rpc's, NotIdempotent endpoints) -> the handler. Metrics and tracing are outside the check so a
// refused call is counted and traced; the deduplication is inside it so a
// refused call leaves no dedup entry.

// NewClient returns a client that calls as the Mesh's identity with the
// whole stack. opts come after the mesh's own and Config.ClientOptions: a
// timeout, retry or breaker setting there replaces the default, and an
// attempt middleware there runs inside the call token (the transport side).
// A WithBreaker there loses the breaker's metrics unless it sets
// OnStateChange itself. The breakers of every service the matrix lets the
// identity call (or call for those it acts for) are made with the client,
// and exported closed in hms_svc_breaker_state from then on.
func (m *Mesh) NewClient(opts ...rpc.Option) (*rpc.Client, error) {
	met := m.cfg.Metrics.m
	attempt := []rpc.Middleware{met.AttemptMiddleware(), m.switchable(trace.ClientMiddleware(m.pub, m.cfg.Identity))}
	if m.signer != nil {
		attempt = append(attempt, m.signer.Middleware())
	}
	known := m.knownServices()
	all := []rpc.Option{
		rpc.WithCaller(m.cfg.Identity),
		rpc.WithCallMiddleware(met.ClientMiddleware()),
		rpc.WithBreaker(rpc.BreakerSettings{
			Failures: rpc.DefaultBreakerFailures, OpenFor: rpc.DefaultBreakerOpenFor,
			MinOpenFor: rpc.DefaultBreakerMinOpen, HalfOpenCalls: rpc.DefaultBreakerHalfOpens,
			OnStateChange: met.BreakerStateChange, OnOpen: met.BreakerOpened,
		}),
		rpc.WithKnownServices(known...),
		rpc.WithAttemptMiddleware(attempt...),
	}
	all = append(all, m.cfg.ClientOptions...)
	c, err := rpc.NewClient(m.nc, append(all, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("mesh: client of %s: %w", m.cfg.Identity, err)
	}
	if len(c.BreakerStates()) > 0 { // not WithoutBreaker
		met.KnownBreakers(known...)
	}
	return c, nil
}

// NewBooth starts a booth of the Mesh's identity with the whole stack; add
// its endpoints with rpc.Handle or HandleRaw. cfg.Name may be left empty: a
// booth serves its own identity's subjects only, so it is the identity.
// The instance name is added to its discovery metadata. opts come after the
// mesh's own: a middleware there runs inside the call token check. Close
// drains it.
func (m *Mesh) NewBooth(cfg rpc.BoothConfig, opts ...rpc.BoothOption) (*rpc.Booth, error) {
	switch cfg.Name {
	case "":
		cfg.Name = m.cfg.Identity
	case m.cfg.Identity:
	default:
		return nil, fmt.Errorf("%w: booth %q cannot be served as %s: a booth serves its own identity's subjects only", ErrConfig, cfg.Name, m.cfg.Identity)
	}
	mw := []rpc.Middleware{m.cfg.Metrics.m.BoothMiddleware(), m.switchable(trace.ServerMiddleware(m.pub, m.cfg.Instance))}
	if m.matrix != nil {
		v, err := m.boothVerifier()
		if err != nil {
			return nil, err
		}
		mw = append(mw, m.revoked.middleware(v.Middleware()))
	}
	cfg.Metadata = maps.Clone(cfg.Metadata)
	if cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	if _, ok := cfg.Metadata["instance"]; !ok {
		cfg.Metadata["instance"] = m.cfg.Instance
	}
	all := append([]rpc.BoothOption{rpc.WithLogger(m.cfg.Logger), rpc.WithBoothMiddleware(mw...)}, opts...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return nil, fmt.Errorf("mesh: booth %s: %w", cfg.Name, rpc.ErrBoothStopped)
	}
	b, err := rpc.NewBooth(m.nc, cfg, all...)
	if err != nil {
		return nil, err
	}
	m.booths = append(m.booths, b)
	return b, nil
}

// boothVerifier returns the verifier of the identity's booths, made once
// with the key set of the last reload (which then keeps it current).
func (m *Mesh) boothVerifier() (*calltoken.Verifier, error) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.verifier == nil {
		v, err := calltoken.NewVerifier(m.cfg.Identity, m.matrix, calltoken.WithKeySet(m.snap.Load().keys))
		if err != nil {
			return nil, fmt.Errorf("mesh: call verifier of %s: %w", m.cfg.Identity, err)
		}
		m.verifier = v
	}
	return m.verifier, nil
}

// switchable returns mw, or, with Config.TraceSwitch, mw while the switch
// holds true and nothing while it is false.
func (m *Mesh) switchable(mw rpc.Middleware) rpc.Middleware {
	sw := m.cfg.TraceSwitch
	if sw == nil {
		return mw
	}
	return func(next rpc.Endpoint) rpc.Endpoint {
		traced := mw(next)
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			if sw.Load() {
				return traced(ctx, req)
			}
			return next(ctx, req)
		}
	}
}

// LoadMatrix reads the matrix at file with the public NKey of every
// identity from KeysDir (or Dir); keys the file lists itself need no file.
func (c Credentials) LoadMatrix(file string) (*matrix.Matrix, error) {
	if file == "" {
		return nil, fmt.Errorf("%w: no matrix: set Config.MatrixFile (%s)", ErrConfig, EnvMatrix)
	}
	mx, err := matrix.Load(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if dir := c.keysDir(); dir != "" {
		if mx, err = mx.LoadKeys(dir); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoCredentials, err)
		}
	}
	return mx, nil
}
