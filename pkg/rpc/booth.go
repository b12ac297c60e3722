package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
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

// ErrBoothStopped is matched by the error of HandleRaw on a stopped booth.
var ErrBoothStopped = errors.New("booth is stopped")

// Booth is one instance of a service: a NATS micro service whose endpoints
// share the queue group of the service, so instances share its load.
// Requests are handled by a bounded pool of workers, except those of Inline
// endpoints, which run on their subscription's goroutine.
type Booth struct {
	name     string
	instance string // this instance's id, recorded in the dedup entries it owns
	nc       *nats.Conn
	svc      micro.Service
	opts     boothOptions
	chain    Middleware
	work     chan func()
	quit     chan struct{} // closed once no more work will be taken
	wg       sync.WaitGroup

	root   context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	paths    map[string]bool
	stopping bool
	stopped  chan struct{} // closed when the first Stop returns
	stopErr  error
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
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: booth option %d is nil", ErrBadOption, i)
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if cfg.Version == "" {
		cfg.Version = "0.0.0"
	}
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
		name: cfg.Name, instance: uuid.NewString(), nc: nc, svc: svc, opts: o,
		work:    make(chan func()),
		quit:    make(chan struct{}),
		paths:   make(map[string]bool),
		stopped: make(chan struct{}),
	}
	b.root, b.cancel = context.WithCancel(context.Background())
	b.chain = Chain(append([]Middleware{recoverer(o.log), boothDeadline(o.timeout)}, o.mw...)...)
	b.wg.Add(o.concurrency)
	for range o.concurrency {
		go b.worker()
	}
	b.flush()
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

// HandleRaw serves path with an Endpoint that sees the raw request. When it
// returns, the server routes calls to path here. A path may be served once
// per booth; a stopped booth serves nothing new. opts configure the
// endpoint (NotIdempotent).
func (b *Booth) HandleRaw(path string, h Endpoint, opts ...EndpointOption) error {
	if h == nil {
		return fmt.Errorf("booth %s: nil handler for %s", b.name, path)
	}
	subject, err := subjects.Request(b.name, path)
	if err != nil {
		return fmt.Errorf("booth %s: %w", b.name, err)
	}
	segs, _ := subjects.SplitPath(path)
	canonical := "/" + strings.Join(segs, "/")
	eo, err := endpointOpts(canonical, opts)
	if err != nil {
		return fmt.Errorf("booth %s: %w", b.name, err)
	}
	meta := map[string]string{"path": canonical}
	if eo.notIdempotent {
		if b.opts.dedup == nil {
			return fmt.Errorf("%w: booth %s: %s is NotIdempotent but the booth has no dedup store (WithDedupStore)", ErrBadOption, b.name, canonical)
		}
		h = newDeduper(b, segs).middleware(h)
		meta["idempotent"] = "false"
	}

	if eo.inline {
		meta["inline"] = "true"
	}
	if err := b.addEndpoint(canonical, subject, segs, meta, h, eo.inline); err != nil {
		return err
	}
	b.flush()
	return nil
}

func (b *Booth) addEndpoint(canonical, subject string, segs []string, meta map[string]string, h Endpoint, inline bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.stopping:
		return fmt.Errorf("booth %s: adding %s: %w", b.name, canonical, ErrBoothStopped)
	case b.paths[canonical]:
		return fmt.Errorf("booth %s: %s is already served", b.name, canonical)
	}
	ep := b.chain(h)
	handler := func(r micro.Request) { b.dispatch(ep, canonical, r) }
	if inline {
		handler = func(r micro.Request) { b.serveInline(ep, canonical, r) }
	}
	err := b.svc.AddEndpoint(strings.Join(segs, "_"), micro.HandlerFunc(handler), micro.WithEndpointSubject(subject), micro.WithEndpointQueueGroup(b.name),
		micro.WithEndpointMetadata(meta))
	if err != nil {
		return fmt.Errorf("booth %s: adding %s: %w", b.name, canonical, err)
	}
	b.paths[canonical] = true
	return nil
}

// flush waits until the server has processed the booth's subscriptions, so
// that calls made once NewBooth or HandleRaw returned are routed here. On a
// broken connection the subscriptions are sent on reconnect.
func (b *Booth) flush() {
	if err := b.nc.FlushTimeout(subscribeTimeout); err != nil {
		b.opts.log.Warn("booth: subscriptions not confirmed by the server", "service", b.name, "error", err)
	}
}

// Stop drains the booth: it takes no new request (the queue group sends them
// to other instances), finishes every request already delivered to it and
// then returns. If ctx ends first, requests not yet started are answered
// with CodeUnavailable, handlers still running see their ctx cancelled, and
// Stop returns ctx's error without waiting for them. A second Stop waits for
// the first.
func (b *Booth) Stop(ctx context.Context) error {
	b.mu.Lock()
	if b.stopping {
		b.mu.Unlock()
		select {
		case <-b.stopped:
			return b.stopErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.stopping = true
	b.mu.Unlock()

	err := b.stop(ctx)
	b.stopErr = err
	close(b.stopped)
	return err
}

func (b *Booth) stop(ctx context.Context) error {
	defer b.cancel()
	err := b.svc.Stop()
	b.awaitDelivered(ctx)
	close(b.quit)
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("booth %s: stopping: %w", b.name, ctx.Err()))
	}
}

// awaitDelivered returns once every request the server delivered to the
// booth before its subscriptions were drained has been handed to a worker,
// or when ctx ends.
//
// micro's Stop drains the subscriptions asynchronously and does not say when
// the drain is over. A flush makes sure the server has processed the
// unsubscriptions, so every message it routed here is already queued on the
// connection; a barrier then runs once every subscription of the connection
// has delivered what it had queued (nats.go counts a message as pending until
// its handler returns, and our handler returns once a worker took the
// request). Counting the connection's subscriptions instead would be fooled
// by any other subscription made or removed on the same connection meanwhile.
func (b *Booth) awaitDelivered(ctx context.Context) {
	fctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(fctx); err != nil {
		if b.nc.IsClosed() {
			return
		}
		b.opts.log.Warn("booth stop: flush failed; draining anyway", "service", b.name, "error", err)
	}
	delivered := make(chan struct{})
	if err := b.nc.Barrier(func() { close(delivered) }); err != nil {
		return // the connection is closed: nothing more will be delivered
	}
	select {
	case <-delivered:
	case <-ctx.Done():
	}
}

const (
	// flushTimeout bounds Stop's flush when its ctx has no deadline.
	flushTimeout = 10 * time.Second
	// subscribeTimeout bounds how long NewBooth and HandleRaw wait for the
	// server to confirm the booth's subscriptions.
	subscribeTimeout = 2 * time.Second
)
