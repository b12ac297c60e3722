package rpc

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

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
	dedup       jetstream.KeyValue
}

// BoothOption configures a Booth. An option that gets a bad value makes
// NewBooth return an error naming it.
type BoothOption func(*boothOptions) error

// WithConcurrency bounds how many requests a booth's worker pool handles
// at once. An Inline endpoint runs outside the pool, one request at a time.
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
// inside panic recovery and the deadline (authentication, tracing). The
// first is outermost. The deduplication of NotIdempotent endpoints runs
// inside them all, so a call they refuse leaves no dedup entry: the order
// is recovery, deadline, these middlewares, deduplication, handler.
func WithBoothMiddleware(mw ...Middleware) BoothOption {
	return func(o *boothOptions) error {
		if err := checkMiddleware("booth middleware", mw); err != nil {
			return err
		}
		o.mw = append(o.mw, mw...)
		return nil
	}
}

// WithDedupStore gives the booth the JetStream key-value bucket in which its
// NotIdempotent endpoints keep their answers per request id; every instance
// of a service must use the same bucket, with DedupStreamConfig's write-once
// config (the mesh's provisioner makes it; EnsureDedupBucket for a program
// that provisions its own). Under key "<service>.<path tokens>.<request id>"
// the bucket holds the call's answer, and under that key with ".<n>" added
// the n-th run's claim: a lease while it runs, or its release.
func WithDedupStore(kv jetstream.KeyValue) BoothOption {
	return func(o *boothOptions) error {
		if kv == nil {
			return fmt.Errorf("%w: nil dedup store", ErrBadOption)
		}
		o.dedup = kv
		return nil
	}
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

// checkMiddleware refuses nil middlewares, which would panic at the first
// call instead of at configuration.
func checkMiddleware(what string, mw []Middleware) error {
	for i, m := range mw {
		if m == nil {
			return fmt.Errorf("%w: %s %d is nil", ErrBadOption, what, i)
		}
	}
	return nil
}
