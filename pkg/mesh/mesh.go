package mesh

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/filewatch"
	"github.com/hms-svc/hms-svc/internal/keyring"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// reconnectWait is the pause between reconnect attempts; they go on
// forever, so a NATS restart never ends a process of the mesh.
const reconnectWait = time.Second

// Mesh is one process's membership of the mesh as one identity: its NATS
// connection, its trace publisher (svc.trace.<identity>), its call signer
// and the booths it serves. It is safe for concurrent use.
type Mesh struct {
	cfg      Config
	nc       *nats.Conn
	matrix   *matrix.Matrix    // nil with InsecureNoCredentials
	signer   *calltoken.Signer // nil with InsecureNoCredentials
	verifier *calltoken.Verifier
	pub      *trace.Publisher
	client   *rpc.Client
	closed   chan struct{} // closed when nc is closed

	// The credentials, reloaded (reload.go) and presented at each NATS
	// handshake (handshake.go); unused with InsecureNoCredentials.
	keyring   *keyring.Reader
	snap      atomic.Pointer[snapshot] // the last reload's
	handshake atomic.Pointer[snapshot] // the one the connection presents
	conn      atomic.Pointer[nats.Conn]
	serving   atomic.Bool // ServerTLSConfig was asked for
	reloadMu  sync.Mutex  // one reload at a time; taken before mu
	revoked   *revokedCalls
	stopWatch context.CancelFunc // nil when no watch runs
	watchDone chan struct{}

	mu        sync.Mutex
	booths    []*rpc.Booth
	closing   bool
	closeErr  error
	closeDone chan struct{}
}

// Connect joins the mesh as cfg.Identity: it loads the matrix and the
// identity's credentials, connects to NATS with mTLS and the identity's
// NKey, and starts the identity's trace publisher. A missing or bad input is
// an error naming it (ErrConfig, ErrNoCredentials); nothing is left open
// then. ctx bounds the connection attempt.
func Connect(ctx context.Context, cfg Config) (_ *Mesh, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if cfg.Metrics == nil {
		if cfg.Metrics, err = NewMetrics(); err != nil {
			return nil, err
		}
	}
	m := &Mesh{cfg: cfg, closed: make(chan struct{}), closeDone: make(chan struct{})}
	var auth []nats.Option
	var w *filewatch.Watch
	if !cfg.InsecureNoCredentials {
		if auth, w, err = m.loadCredentials(); err != nil {
			return nil, err
		}
	}
	if m.nc, err = m.connect(ctx, auth); err != nil {
		return nil, err
	}
	m.conn.Store(m.nc)
	defer func() {
		if err != nil {
			m.nc.Close()
		}
	}()
	if m.pub, err = trace.NewPublisher(m.nc, cfg.Identity); err != nil {
		return nil, fmt.Errorf("mesh: trace publisher of %s: %w", cfg.Identity, err)
	}
	if err = cfg.Metrics.m.TracePublisher(cfg.Identity, m.pub); err != nil {
		_ = m.pub.Close(context.Background())
		return nil, fmt.Errorf("mesh: %w", err)
	}
	if m.client, err = m.NewClient(); err != nil {
		_ = m.pub.Close(context.Background())
		return nil, err
	}
	if w != nil && cfg.ReloadInterval > 0 {
		m.startWatch(w)
	}
	return m, nil
}

// loadCredentials reads the matrix, the identity's credentials and the
// folder's keys, makes the signer and returns the connection's TLS and NKey
// options and the watch of the files read.
func (m *Mesh) loadCredentials() ([]nats.Option, *filewatch.Watch, error) {
	cfg := m.cfg
	mx := cfg.Matrix
	var err error
	if mx == nil {
		if mx, err = cfg.Credentials.LoadMatrix(cfg.MatrixFile); err != nil {
			return nil, nil, err
		}
	}
	if _, ok := mx.Identity(cfg.Identity); !ok {
		return nil, nil, fmt.Errorf("%w: identity %q is not in the matrix", ErrConfig, cfg.Identity)
	}
	if _, ok := mx.PublicKey(cfg.Identity); !ok {
		return nil, nil, fmt.Errorf("%w: the matrix has no public NKey for %s: set Credentials.KeysDir (%s) or Dir", ErrNoCredentials, cfg.Identity, EnvKeysDir)
	}
	m.matrix = mx
	m.keyring = keyring.NewReader(cfg.Credentials.keysDir(), mx)
	m.revoked = &revokedCalls{m: m, logged: map[string]time.Time{}, since: map[string]int{}}
	w := filewatch.New(m.watchFiles) // before reading, so a change meanwhile is seen
	s, err := m.readSnapshot()
	if err != nil {
		return nil, nil, err
	}
	m.snap.Store(s)
	if dir := cfg.Credentials.keysDir(); dir != "" {
		if _, err := os.Stat(pki.PubFile(dir, pki.OperatorName)); err != nil {
			cfg.Logger.Warn("no operator key: revocations cannot be verified, none is applied (meshctl init makes one)",
				"identity", cfg.Identity, "missing", pki.PubFile(dir, pki.OperatorName))
		}
	}
	// readSnapshot checked the seed against the key set, which holds both
	// keys of a rotation under way; the matrix may hold either.
	if m.signer, err = calltoken.NewSigner(cfg.Identity, s.kp, ownKey{mx, cfg.Identity, s.pub}); err != nil {
		return nil, nil, fmt.Errorf("mesh: %w", err)
	}
	return m.natsCredentials(s), w, nil
}

// ownKey is a policy that gives identity the key pub.
type ownKey struct {
	calltoken.Policy
	identity, pub string
}

// PublicKey implements calltoken.Policy.
func (p ownKey) PublicKey(identity string) (string, bool) {
	if identity == p.identity {
		return p.pub, true
	}
	return p.Policy.PublicKey(identity)
}

// connect opens the NATS connection: reconnecting forever, its losses and
// returns logged.
func (m *Mesh) connect(ctx context.Context, auth []nats.Option) (*nats.Conn, error) {
	log := m.cfg.Logger.With("identity", m.cfg.Identity)
	timeout := m.cfg.ConnectTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	opts := append(auth,
		nats.Name(m.cfg.Identity),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS connection lost; reconnecting", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS connection back", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("NATS error", "subject", subject, "error", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(m.closed) }),
	)
	nc, err := nats.Connect(m.cfg.NATSURL, append(opts, m.cfg.NATSOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("mesh: connecting %s to NATS at %s: %w", m.cfg.Identity, m.cfg.NATSURL, err)
	}
	return nc, nil
}

// Identity returns the identity the process is in the mesh.
func (m *Mesh) Identity() string { return m.cfg.Identity }

// Conn returns the NATS connection, for what the mesh does not wrap (the
// identity's JetStream stores). Do not close it: Close does.
func (m *Mesh) Conn() *nats.Conn { return m.nc }

// Tracer returns the identity's trace publisher, for hops the mesh does not
// trace itself (the bridge's handling of an HTTP request).
func (m *Mesh) Tracer() trace.Emitter { return m.pub }

// Metrics returns the metrics the Mesh measures into.
func (m *Mesh) Metrics() *Metrics { return m.cfg.Metrics }

// Client returns the identity's client, with the whole stack: see
// NewClient.
func (m *Mesh) Client() *rpc.Client { return m.client }

// Close drains every booth the Mesh serves (each within DrainTimeout and
// ctx: calls in flight finish and are answered, new ones go to other
// instances), publishes the trace events left (within FlushTimeout; what
// is still unsent then is dropped, counted and logged), then drains and
// closes the NATS connection. Later calls return the first one's result.
func (m *Mesh) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closing {
		m.mu.Unlock()
		<-m.closeDone
		return m.closeErr
	}
	m.closing = true
	booths := m.booths
	m.mu.Unlock()
	if m.stopWatch != nil {
		m.stopWatch()
		<-m.watchDone
	}

	errs := make([]error, len(booths))
	var wg sync.WaitGroup
	for i, b := range booths {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, m.cfg.DrainTimeout)
			defer cancel()
			if err := b.Stop(ctx); err != nil {
				errs[i] = fmt.Errorf("draining %s: %w", b.Name(), err)
			}
		})
	}
	wg.Wait()
	m.flushTraces(ctx)
	m.closeErr = errors.Join(append(errs, m.drain())...)
	close(m.closeDone)
	return m.closeErr
}

// flushTraces closes the trace publisher within FlushTimeout and logs what
// it dropped: the events are counted, and the stop is not failed for them.
func (m *Mesh) flushTraces(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.FlushTimeout)
	defer cancel()
	err := m.pub.Close(ctx)
	if s := m.pub.Stats(); err != nil || s.Dropped() > 0 {
		m.cfg.Logger.Warn("trace events dropped", "subject", m.pub.Subject(), "published", s.Published,
			"full", s.DroppedFull, "failed", s.DroppedFailed, "invalid", s.DroppedInvalid,
			"last_error", s.LastError, "flush", err)
	}
}

// drain drains the connection (what it publishes is flushed, its
// subscriptions end) and waits for it to close, within DrainTimeout.
func (m *Mesh) drain() error {
	if err := m.nc.Drain(); err != nil {
		m.nc.Close()
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil
		}
		return fmt.Errorf("mesh: draining NATS: %w", err)
	}
	select {
	case <-m.closed:
		return nil
	case <-time.After(m.cfg.DrainTimeout):
		m.nc.Close()
		return errors.New("mesh: draining NATS: timed out")
	}
}

// TraceStats returns the counters of the identity's trace publisher: events
// published, dropped by reason, and pending. After Close they are final.
func (m *Mesh) TraceStats() trace.Stats { return m.pub.Stats() }
