package rpc

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of the client, per the product brief.
const (
	DefaultAttemptTimeout   = 300 * time.Millisecond
	DefaultRetries          = 2
	DefaultBackoff          = 20 * time.Millisecond
	DefaultBreakerFailures  = 3
	DefaultBreakerOpenFor   = 60 * time.Second
	DefaultBreakerHalfOpens = 1
)

type clientOptions struct {
	attemptTimeout time.Duration
	retries        int
	backoff        time.Duration
	breaker        BreakerSettings
	breakerOff     bool
	caller         string
	attemptMW      []Middleware
	callMW         []Middleware
}

func defaultClientOptions() clientOptions {
	return clientOptions{
		attemptTimeout: DefaultAttemptTimeout,
		retries:        DefaultRetries,
		backoff:        DefaultBackoff,
		breaker: BreakerSettings{
			Failures:      DefaultBreakerFailures,
			OpenFor:       DefaultBreakerOpenFor,
			HalfOpenCalls: DefaultBreakerHalfOpens,
		},
	}
}

// Option configures a Client. An Option that gets a bad value makes NewClient
// return an error naming it.
type Option func(*clientOptions) error

// ErrBadOption is matched by the error NewClient returns for a bad option.
var ErrBadOption = errors.New("rpc: bad option")

// WithAttemptTimeout sets how long one attempt may take (default 300 ms).
func WithAttemptTimeout(d time.Duration) Option {
	return func(o *clientOptions) error {
		if d <= 0 {
			return fmt.Errorf("%w: attempt timeout must be positive, got %v", ErrBadOption, d)
		}
		o.attemptTimeout = d
		return nil
	}
}

// WithRetries sets how many times a call is retried after its first attempt
// (default 2) and the base of the jittered exponential backoff (default 20 ms).
func WithRetries(retries int, backoff time.Duration) Option {
	return func(o *clientOptions) error {
		if retries < 0 || retries > 10 {
			return fmt.Errorf("%w: retries must be in [0,10], got %d", ErrBadOption, retries)
		}
		if backoff < 0 {
			return fmt.Errorf("%w: backoff must not be negative, got %v", ErrBadOption, backoff)
		}
		o.retries, o.backoff = retries, backoff
		return nil
	}
}

// WithBreaker sets the circuit breaker kept per service.
func WithBreaker(s BreakerSettings) Option {
	return func(o *clientOptions) error {
		if s.Failures == 0 || s.OpenFor <= 0 || s.HalfOpenCalls == 0 {
			return fmt.Errorf("%w: breaker needs Failures, OpenFor and HalfOpenCalls > 0, got %+v", ErrBadOption, s)
		}
		o.breaker = s
		return nil
	}
}

// WithoutBreaker turns the circuit breaker off.
func WithoutBreaker() Option {
	return func(o *clientOptions) error { o.breakerOff = true; return nil }
}

// WithCaller names the identity the client calls as; it is sent in
// HeaderCaller. Identities are service-name shaped ("gateway", "fee-calc");
// "" sends none.
func WithCaller(identity string) Option {
	return func(o *clientOptions) error {
		if identity != "" && !validIdentity(identity) {
			return fmt.Errorf("%w: caller identity must match ^[a-z][a-z0-9-]{0,62}$, got %q", ErrBadOption, identity)
		}
		o.caller = identity
		return nil
	}
}

// validIdentity reports whether id is a well-formed identity.
func validIdentity(id string) bool {
	if id == "" || len(id) > 63 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// WithAttemptMiddleware adds middlewares run once per attempt, just before
// the request is sent (authentication, tracing). The first is outermost.
func WithAttemptMiddleware(mw ...Middleware) Option {
	return func(o *clientOptions) error {
		if err := checkMiddleware("attempt middleware", mw); err != nil {
			return err
		}
		o.attemptMW = append(o.attemptMW, mw...)
		return nil
	}
}

// WithCallMiddleware adds middlewares run once per logical call, outside the
// breaker and retries (metrics, logging). The first is outermost.
func WithCallMiddleware(mw ...Middleware) Option {
	return func(o *clientOptions) error {
		if err := checkMiddleware("call middleware", mw); err != nil {
			return err
		}
		o.callMW = append(o.callMW, mw...)
		return nil
	}
}
