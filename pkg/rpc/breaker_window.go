package rpc

import (
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// breaker is one service's gobreaker with an open window that grows with
// consecutive trips. gobreaker's Timeout is fixed when it is made, so
// gobreaker is given the shortest window and breaker holds calls back
// itself until the window of the current trip ends; gobreaker still
// counts failures and lets HalfOpenCalls probes through one generation
// at a time.
type breaker struct {
	name string
	s    BreakerSettings
	cb   *gobreaker.CircuitBreaker[*Message]

	mu        sync.Mutex
	trips     int       // consecutive trips, none closed in between
	openUntil time.Time // the end of the current trip's window
	probing   bool      // the half-open state after openUntil is announced
}

// errNotCounted marks, to gobreaker only, a failure notCounted excludes.
var errNotCounted = errors.New("rpc: not counted by the breaker")

func newBreaker(service string, s BreakerSettings) *breaker {
	b := &breaker{name: service, s: s}
	b.cb = gobreaker.NewCircuitBreaker[*Message](gobreaker.Settings{
		Name:        service,
		MaxRequests: s.HalfOpenCalls,
		Timeout:     b.shortest(),
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.Failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errNotCounted) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			b.changed(from, to)
		},
	})
	return b
}

// adaptive reports whether windows grow from MinOpenFor.
func (b *breaker) adaptive() bool {
	return b.s.MinOpenFor > 0 && b.s.MinOpenFor < b.s.OpenFor
}

// shortest is the least a window can be: gobreaker's Timeout.
func (b *breaker) shortest() time.Duration {
	if !b.adaptive() {
		return b.s.OpenFor
	}
	return b.s.MinOpenFor - b.s.MinOpenFor/5
}

// window is the open window of the nth consecutive trip.
func (b *breaker) window(n int) time.Duration {
	if !b.adaptive() {
		return b.s.OpenFor
	}
	w := b.s.OpenFor
	if n <= 32 {
		w = min(b.s.MinOpenFor<<(n-1), b.s.OpenFor)
	}
	return w - rand.N(w/5+1)
}

// changed follows gobreaker's state changes; it runs under gobreaker's
// lock, before any other call sees the new state.
func (b *breaker) changed(from, to gobreaker.State) {
	b.mu.Lock()
	var w time.Duration
	switch to {
	case gobreaker.StateOpen:
		b.trips++
		w = b.window(b.trips)
		b.openUntil = time.Now().Add(w)
		b.probing = false
	case gobreaker.StateClosed:
		b.trips = 0
	case gobreaker.StateHalfOpen:
		// Announced by execute when this trip's window ends: gobreaker
		// moves at the end of the shortest window.
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	b.notify(from, to)
	if to == gobreaker.StateOpen && b.s.OnOpen != nil {
		b.s.OnOpen(b.name, w)
	}
}

func (b *breaker) notify(from, to gobreaker.State) {
	if b.s.OnStateChange != nil {
		b.s.OnStateChange(b.name, from, to)
	}
}

// state is the breaker's state as callers see it.
func (b *breaker) state() gobreaker.State {
	b.mu.Lock()
	open := time.Now().Before(b.openUntil)
	b.mu.Unlock()
	if open {
		return gobreaker.StateOpen
	}
	return b.cb.State()
}

// execute runs call unless the breaker is open, and counts its outcome.
func (b *breaker) execute(call func() (*Message, error)) (*Message, error) {
	b.mu.Lock()
	if time.Now().Before(b.openUntil) {
		b.mu.Unlock()
		return nil, gobreaker.ErrOpenState
	}
	announce := b.trips > 0 && !b.probing
	b.probing = b.probing || announce
	b.mu.Unlock()
	if announce && b.cb.State() == gobreaker.StateHalfOpen {
		b.notify(gobreaker.StateOpen, gobreaker.StateHalfOpen)
	}
	var res *Message
	var err error
	_, cerr := b.cb.Execute(func() (*Message, error) {
		res, err = call()
		if err != nil && notCounted(res, err) {
			return res, errNotCounted
		}
		return res, err
	})
	if errors.Is(cerr, gobreaker.ErrOpenState) || errors.Is(cerr, gobreaker.ErrTooManyRequests) {
		return nil, cerr
	}
	return res, err
}
