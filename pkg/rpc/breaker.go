package rpc

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerSettings configure the circuit breaker kept per service.
type BreakerSettings struct {
	// Failures is how many consecutive failed calls open the breaker (3).
	Failures uint32
	// OpenFor is the longest an open breaker refuses calls before it lets
	// a probe through (60 s).
	OpenFor time.Duration
	// MinOpenFor is the open window of a first trip (1 s); each trip after
	// a failed probe doubles it, up to OpenFor, jittered down by at most a
	// fifth so that callers do not probe in step. A successful probe
	// closes the breaker and the next trip starts at MinOpenFor again. 0,
	// or MinOpenFor equal to OpenFor, keeps every window at OpenFor.
	MinOpenFor time.Duration
	// HalfOpenCalls is how many probes a half-open breaker lets through (1).
	HalfOpenCalls uint32
	// OnStateChange, when set, is told of every state change.
	OnStateChange func(service string, from, to gobreaker.State)
	// OnOpen, when set, is told of every trip and how long it keeps the
	// breaker open.
	OnOpen func(service string, window time.Duration)
}

// breakers holds one circuit breaker per service.
type breakers struct {
	settings BreakerSettings
	m        sync.Map // service -> *breaker
}

func (b *breakers) get(service string) *breaker {
	if cb, ok := b.m.Load(service); ok {
		return cb.(*breaker)
	}
	cb, _ := b.m.LoadOrStore(service, newBreaker(service, b.settings))
	return cb.(*breaker)
}

// State returns the state of service's breaker (closed if it has none yet).
func (b *breakers) state(service string) gobreaker.State {
	if cb, ok := b.m.Load(service); ok {
		return cb.(*breaker).state()
	}
	return gobreaker.StateClosed
}

// middleware fails fast while a service's breaker is open. A call whose ctx
// is already over never reaches the booth, so it is not counted.
func (b *breakers) middleware(next Endpoint) Endpoint {
	return func(ctx context.Context, req *Message) (*Message, error) {
		if ctx.Err() != nil {
			return next(ctx, req)
		}
		res, err := b.get(req.Service).execute(func() (*Message, error) { return next(ctx, req) })
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return nil, &Error{code: CodeUnavailable, msg: "circuit breaker for " + req.Service + " is open: failing fast", cause: errors.Join(ErrBreakerOpen, err)}
		}
		return res, err
	}
}

// notCounted reports whether a failed call says nothing of the booth's
// health. Caller mistakes and cancellations do not; with no instance
// running there is no booth to protect and the call already fails at once
// (counting it would keep refusing calls after an instance starts); a NATS
// outage is not the booth's; a booth that answers "store unavailable" or
// sheds load with a retry hint is alive and saying when to come back.
func notCounted(res *Message, err error) bool {
	c := CodeOf(err)
	switch {
	case c.IsCallerMistake(), c == CodeCanceled, noInstance(err), finalIs(err, ErrNotConnected):
		return true
	case c == CodeUnavailable:
		return finalIs(err, ErrStoreUnavailable) || (res != nil && res.Header.Get(HeaderRetryAfter) != "")
	}
	return false
}

// noInstance reports whether a call failed because no instance was running:
// its last attempt found none.
func noInstance(err error) bool { return finalIs(err, ErrNoInstance) }

// finalIs reports whether the last attempt's error of err matches target.
func finalIs(err, target error) bool {
	var ae *AttemptsError
	if errors.As(err, &ae) {
		return errors.Is(ae.Final(), target)
	}
	return errors.Is(err, target)
}
