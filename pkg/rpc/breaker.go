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
	// OpenFor is how long an open breaker refuses calls before it lets
	// probes through (60 s).
	OpenFor time.Duration
	// HalfOpenCalls is how many probes a half-open breaker lets through (1).
	HalfOpenCalls uint32
	// OnStateChange, when set, is told of every state change.
	OnStateChange func(service string, from, to gobreaker.State)
}

// breakers holds one circuit breaker per service.
type breakers struct {
	settings BreakerSettings
	m        sync.Map // service -> *gobreaker.CircuitBreaker[*Message]
}

func (b *breakers) get(service string) *gobreaker.CircuitBreaker[*Message] {
	if cb, ok := b.m.Load(service); ok {
		return cb.(*gobreaker.CircuitBreaker[*Message])
	}
	s := b.settings
	st := gobreaker.Settings{
		Name:        service,
		MaxRequests: s.HalfOpenCalls,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.Failures },
		// Caller mistakes and cancellations say nothing of the booth's
		// health. With no instance running there is no booth to protect and
		// the call already fails at once; counting it would keep refusing
		// calls for OpenFor after an instance starts.
		IsExcluded: func(err error) bool {
			if err == nil { // every successful call: keep it free
				return false
			}
			c := CodeOf(err)
			return c.IsCallerMistake() || c == CodeCanceled || noInstance(err) || finalIs(err, ErrNotConnected)
		},
	}
	if s.OnStateChange != nil {
		st.OnStateChange = func(name string, from, to gobreaker.State) { s.OnStateChange(name, from, to) }
	}
	cb, _ := b.m.LoadOrStore(service, gobreaker.NewCircuitBreaker[*Message](st))
	return cb.(*gobreaker.CircuitBreaker[*Message])
}

// State returns the state of service's breaker (closed if it has none yet).
func (b *breakers) state(service string) gobreaker.State {
	if cb, ok := b.m.Load(service); ok {
		return cb.(*gobreaker.CircuitBreaker[*Message]).State()
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
		cb := b.get(req.Service)
		var res *Message
		_, err := cb.Execute(func() (*Message, error) {
			var err error
			res, err = next(ctx, req)
			return res, err
		})
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return nil, &Error{code: CodeUnavailable, msg: "circuit breaker for " + req.Service + " is open: failing fast", cause: errors.Join(ErrBreakerOpen, err)}
		}
		return res, err
	}
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
