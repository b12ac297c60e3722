package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// BoothConfig is what a booth must say about itself.
type BoothConfig struct {
	// Name is the service name ("fee-calc"); it must be a valid service name.
	Name string
	// Version is the booth's semantic version ("1.0.0").
	Version string
	// Description is shown by discovery.
	Description string
	// Metadata is shown by discovery.
	Metadata map[string]string
}

// DefaultConcurrency is how many requests a booth handles at once unless
// WithConcurrency says otherwise.
const DefaultConcurrency = 64

// DefaultBoothTimeout bounds a handler when the caller sent no deadline.
const DefaultBoothTimeout = 30 * time.Second

type boothOptions struct {
	concurrency int
	timeout     time.Duration
	mw          []Middleware
	log         *slog.Logger
}

// BoothOption configures a Booth.
type BoothOption func(*boothOptions) error

// WithConcurrency bounds how many requests a booth handles at once.
func WithConcurrency(n int) BoothOption {
	return func(o *boothOptions) error {
		if n < 1 {
			return fmt.Errorf("%w: concurrency must be at least 1, got %d", ErrBadOption, n)
		}
		o.concurrency = n
		return nil
	}
}

// WithDefaultTimeout bounds a handler when the caller sent no deadline.
func WithDefaultTimeout(d time.Duration) BoothOption {
	return func(o *boothOptions) error {
		if d <= 0 {
			return fmt.Errorf("%w: default timeout must be positive, got %v", ErrBadOption, d)
		}
		o.timeout = d
		return nil
	}
}

// WithBoothMiddleware adds middlewares around every handler of the booth,
// inside panic recovery and the deadline (authentication, tracing,
// deduplication). The first is outermost.
func WithBoothMiddleware(mw ...Middleware) BoothOption {
	return func(o *boothOptions) error { o.mw = append(o.mw, mw...); return nil }
}

// WithLogger sets the booth's logger (default slog.Default()).
func WithLogger(l *slog.Logger) BoothOption {
	return func(o *boothOptions) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrBadOption)
		}
		o.log = l
		return nil
	}
}

// Booth is one instance of a service: a NATS micro service whose endpoints
// share the queue group of the service, so instances share its load.
// Requests are handled by a bounded pool of workers.
type Booth struct {
	name  string
	nc    *nats.Conn
	svc   micro.Service
	opts  boothOptions
	chain Middleware
	work  chan func()
	quit  chan struct{} // closed once no more work will be taken
	subs  int           // subscriptions micro made for this booth
	wg    sync.WaitGroup

	root   context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
}

// NewBooth starts a booth with no endpoints on nc; add them with Handle or
// HandleRaw. It answers discovery ($SRV.PING/INFO/STATS) at once.
func NewBooth(nc *nats.Conn, cfg BoothConfig, opts ...BoothOption) (*Booth, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrBadOption)
	}
	if err := subjects.ValidateService(cfg.Name); err != nil {
		return nil, fmt.Errorf("booth: %w", err)
	}
	o := boothOptions{concurrency: DefaultConcurrency, timeout: DefaultBoothTimeout, log: slog.Default()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if cfg.Version == "" {
		cfg.Version = "0.0.0"
	}
	before := nc.NumSubscriptions()
	svc, err := micro.AddService(nc, micro.Config{
		Name:        cfg.Name,
		Version:     cfg.Version,
		Description: cfg.Description,
		Metadata:    cfg.Metadata,
		QueueGroup:  cfg.Name,
	})
	if err != nil {
		return nil, fmt.Errorf("booth %s: %w", cfg.Name, err)
	}
	b := &Booth{
		name: cfg.Name, nc: nc, svc: svc, opts: o,
		work: make(chan func()),
		quit: make(chan struct{}),
		subs: nc.NumSubscriptions() - before,
	}
	b.root, b.cancel = context.WithCancel(context.Background())
	b.chain = Chain(append([]Middleware{recoverer(o.log), boothDeadline(o.timeout)}, o.mw...)...)
	b.wg.Add(o.concurrency)
	for range o.concurrency {
		go b.worker()
	}
	return b, nil
}

func (b *Booth) worker() {
	defer b.wg.Done()
	for {
		select {
		case f := <-b.work:
			f()
		case <-b.quit:
			return
		}
	}
}

// Name returns the service name.
func (b *Booth) Name() string { return b.name }

// Info returns the booth's discovery information.
func (b *Booth) Info() micro.Info { return b.svc.Info() }

// HandleRaw serves path with an Endpoint that sees the raw request.
func (b *Booth) HandleRaw(path string, h Endpoint) error {
	subject, err := subjects.Request(b.name, path)
	if err != nil {
		return fmt.Errorf("booth %s: %w", b.name, err)
	}
	segs, _ := subjects.SplitPath(path)
	name := segs[0]
	for _, s := range segs[1:] {
		name += "_" + s
	}
	ep := b.chain(h)
	before := b.nc.NumSubscriptions()
	err = b.svc.AddEndpoint(name, micro.HandlerFunc(func(r micro.Request) {
		b.dispatch(ep, path, r)
	}), micro.WithEndpointSubject(subject), micro.WithEndpointQueueGroup(b.name),
		micro.WithEndpointMetadata(map[string]string{"path": "/" + joinPath(segs)}))
	if err != nil {
		return fmt.Errorf("booth %s: adding %s: %w", b.name, path, err)
	}
	b.mu.Lock()
	b.subs += b.nc.NumSubscriptions() - before
	b.mu.Unlock()
	return nil
}

func joinPath(segs []string) string {
	s := segs[0]
	for _, x := range segs[1:] {
		s += "/" + x
	}
	return s
}

// dispatch hands one request to a worker; it blocks while all are busy,
// which holds further messages in the subscription's pending buffer.
func (b *Booth) dispatch(ep Endpoint, path string, r micro.Request) {
	f := func() {
		hdr := nats.Header(r.Headers())
		if hdr == nil {
			hdr = nats.Header{}
		}
		req := &Message{Service: b.name, Path: path, Subject: r.Subject(), Header: hdr, Data: r.Data()}
		attempt := 1
		if a := hdr.Get(HeaderAttempt); a != "" {
			attempt, _ = strconv.Atoi(a)
		}
		ctx := withCallInfo(b.root, &CallInfo{
			Service: b.name, Path: path, RequestID: hdr.Get(HeaderRequestID),
			Caller: hdr.Get(HeaderCaller), Attempt: attempt, Header: hdr,
		})
		res, err := ep(ctx, req)
		b.respond(r, req, res, err)
	}
	select {
	case b.work <- f:
	case <-b.quit:
		_ = r.Error(CodeUnavailable.String(), b.name+" is stopping", nil)
	}
}

func (b *Booth) respond(r micro.Request, req *Message, res *Message, err error) {
	var opts []micro.RespondOpt
	if res != nil && len(res.Header) > 0 {
		opts = append(opts, micro.WithHeaders(micro.Headers(res.Header)))
	}
	var rerr error
	if err != nil {
		code := CodeOf(err)
		msg := MessageOf(err)
		var e *Error
		if !errors.As(err, &e) {
			// An uncoded error may hold anything: log it, answer generically.
			b.opts.log.Error("handler failed", "service", b.name, "path", req.Path,
				"request_id", req.Header.Get(HeaderRequestID), "error", err)
			msg = "internal error in " + b.name + " " + req.Path
		}
		if code == CodeCanceled {
			code = CodeDeadlineExceeded
		}
		var data []byte
		if res != nil {
			data = res.Data
		}
		rerr = r.Error(code.String(), msg, data, opts...)
	} else {
		var data []byte
		if res != nil {
			data = res.Data
		}
		rerr = r.Respond(data, opts...)
	}
	if rerr != nil {
		b.opts.log.Warn("reply not sent", "service", b.name, "path", req.Path, "error", rerr)
	}
}

// Stop drains the booth: it takes no new request (the queue group sends them
// to other instances), finishes the ones in flight and then returns. If ctx
// ends first, handlers still running see their ctx cancelled and Stop returns
// ctx's error.
func (b *Booth) Stop(ctx context.Context) error {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return nil
	}
	b.stopped = true
	target := b.nc.NumSubscriptions() - b.subs
	b.mu.Unlock()

	err := b.svc.Stop()
	// micro's Stop drains the subscriptions asynchronously; wait until the
	// connection no longer holds them, so every delivered message has been
	// handed to a worker.
	for b.nc.NumSubscriptions() > target && !b.nc.IsClosed() && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	close(b.quit)
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		b.cancel()
		<-done
		return errors.Join(err, ctx.Err())
	}
	b.cancel()
	return err
}
