package rpc

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// Defaults of the client, per the product brief.
const (
	DefaultAttemptTimeout   = 300 * time.Millisecond
	DefaultRetries          = 2
	DefaultBackoff          = 20 * time.Millisecond
	DefaultBreakerFailures  = 3
	DefaultBreakerOpenFor   = 60 * time.Second
	DefaultBreakerMinOpen   = time.Second
	DefaultBreakerHalfOpens = 1
)

type clientOptions struct {
	attemptTimeout time.Duration
	retries        int
	backoff        time.Duration
	breaker        BreakerSettings
	breakerOff     bool
	known          []string
	budgetRatio    float64
	budgetFloor    float64
	budgetOff      bool
	caller         string
	attemptMW      []Middleware
	callMW         []Middleware
}

func defaultClientOptions() clientOptions {
	return clientOptions{
		attemptTimeout: DefaultAttemptTimeout,
		retries:        DefaultRetries,
		backoff:        DefaultBackoff,
		budgetRatio:    DefaultRetryRatio,
		budgetFloor:    DefaultRetryFloor,
		breaker: BreakerSettings{
			Failures:      DefaultBreakerFailures,
			OpenFor:       DefaultBreakerOpenFor,
			MinOpenFor:    DefaultBreakerMinOpen,
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
		if s.MinOpenFor < 0 || s.MinOpenFor > s.OpenFor {
			return fmt.Errorf("%w: breaker MinOpenFor %v must be between 0 and OpenFor %v", ErrBadOption, s.MinOpenFor, s.OpenFor)
		}
		o.breaker = s
		return nil
	}
}

// WithKnownServices makes the circuit breakers of services when the client
// is made, rather than at each service's first call, so that their state
// (closed) is known from the start; it is for the services a client is
// allowed to call (pkg/mesh passes those the matrix grants). Calls to other
// services still get a breaker at their first call. A malformed service
// name is an error naming it; repeated names count once.
func WithKnownServices(services ...string) Option {
	return func(o *clientOptions) error {
		for _, s := range services {
			if err := subjects.ValidateService(s); err != nil {
				return fmt.Errorf("%w: known service: %w", ErrBadOption, err)
			}
			if !slices.Contains(o.known, s) {
				o.known = append(o.known, s)
			}
		}
		return nil
	}
}

// WithoutBreaker turns the circuit breaker off.
func WithoutBreaker() Option {
	return func(o *clientOptions) error { o.breakerOff = true; return nil }
}

// WithRetryBudget limits the retries to each service to ratio of its calls
// (default 0.2), with a floor of floorPerSecond retries per second whatever
// its traffic (default 10). The floor is a minimum, not an addition: over a
// second the budget grants max(floor, ratio*calls) retries, so a dead booth
// under sustained load gets at most 1+ratio attempts per call. A retry the
// budget refuses ends the call with the last attempt's error, its
// AttemptsError noting "retry budget for <service> exhausted" (errors.Is
// ErrRetryBudgetExhausted). ratio must be in [0, 1] and floorPerSecond in
// [0, 10000], not both 0 (use WithRetries(0, 0) to turn retries off).
func WithRetryBudget(ratio, floorPerSecond float64) Option {
	return func(o *clientOptions) error {
		switch {
		case math.IsNaN(ratio) || ratio < 0 || ratio > 1:
			return fmt.Errorf("%w: retry budget ratio must be in [0,1], got %v", ErrBadOption, ratio)
		case math.IsNaN(floorPerSecond) || floorPerSecond < 0 || floorPerSecond > 10000:
			return fmt.Errorf("%w: retry budget floor must be in [0,10000] retries per second, got %v", ErrBadOption, floorPerSecond)
		case ratio == 0 && floorPerSecond == 0:
			return fmt.Errorf("%w: a retry budget of ratio 0 and floor 0 allows no retry: use WithRetries(0, 0) instead", ErrBadOption)
		}
		o.budgetRatio, o.budgetFloor, o.budgetOff = ratio, floorPerSecond, false
		return nil
	}
}

// WithoutRetryBudget lets every call make all its retries, whatever the
// service's failure rate.
func WithoutRetryBudget() Option {
	return func(o *clientOptions) error { o.budgetOff = true; return nil }
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
