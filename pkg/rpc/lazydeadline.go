package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is a context with a deadline whose timer is armed only when
// something waits on it (Done) or derives a cancellable context from it. A
// handler that only computes, or a request sent with nats.go's pooled
// timers, never arms it: context.WithTimeout would cost a timer, a
// goroutine-safe registration in its parent and several allocations per
// call. Err, Deadline and Value answer without arming, as the armed
// context would.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time

	mu       sync.Mutex
	armed    atomic.Pointer[armedDeadline]
	released error // set by release when it comes before any arming
}

type armedDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// withLazyDeadline returns a context that ends at deadline or with parent;
// release it, as a CancelFunc, when the work is done.
func withLazyDeadline(parent context.Context, deadline time.Time) *lazyDeadline {
	return &lazyDeadline{parent: parent, deadline: deadline}
}

// Deadline returns the deadline.
func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

// Done arms the deadline and returns the channel closed when it passes, the
// parent ends or the context is released.
func (c *lazyDeadline) Done() <-chan struct{} { return c.arm().Done() }

// Err says why the context ended, or nil.
func (c *lazyDeadline) Err() error {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	c.mu.Lock()
	released := c.released
	c.mu.Unlock()
	switch {
	case released != nil:
		return released
	case c.parent.Err() != nil:
		return c.parent.Err()
	case !time.Now().Before(c.deadline):
		return context.DeadlineExceeded
	}
	return nil
}

// Value returns the parent's values. The context package looks up its own
// cancellation state with a key of type *int (context.Cause, and
// propagating cancellation to a derived context): that lookup arms the
// deadline, so the answer is the armed context's.
func (c *lazyDeadline) Value(key any) any {
	if _, ok := key.(*int); ok {
		return c.arm().Value(key)
	}
	return c.parent.Value(key)
}

// String names the context, as the context package's do.
func (c *lazyDeadline) String() string { return "rpc.lazyDeadline" }

// arm makes the real deadline context on first use.
func (c *lazyDeadline) arm() context.Context {
	if a := c.armed.Load(); a != nil {
		return a.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		return a.ctx
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	if c.released != nil {
		cancel()
	}
	c.armed.Store(&armedDeadline{ctx: ctx, cancel: cancel})
	return ctx
}

// unarmed reports whether nothing has armed the deadline yet.
func (c *lazyDeadline) unarmed() bool { return c.armed.Load() == nil }

// release ends the context, as a CancelFunc would: Err is Canceled from now
// on unless the deadline or the parent came first.
func (c *lazyDeadline) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		a.cancel()
		return
	}
	if c.released != nil {
		return
	}
	switch {
	case c.parent.Err() != nil:
		c.released = c.parent.Err()
	case !time.Now().Before(c.deadline):
		c.released = context.DeadlineExceeded
	default:
		c.released = context.Canceled
	}
}
