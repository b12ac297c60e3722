package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// windows records the open window of every trip.
type windows struct {
	mu sync.Mutex
	w  []time.Duration
}

func (ws *windows) record(_ string, w time.Duration) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.w = append(ws.w, w)
}

func (ws *windows) all() []time.Duration {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]time.Duration(nil), ws.w...)
}

// failingBooth starts service with a /charge that fails with 500 while
// *failing holds, and a client with breaker settings s.
func failingBooth(t *testing.T, s rpc.BreakerSettings) (*rpc.Client, *atomic.Bool) {
	t.Helper()
	srv := natstest.Start(t)
	b := startBooth(t, srv, "payment")
	failing := &atomic.Bool{}
	failing.Store(true)
	handleRaw(t, b, "/charge", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		if failing.Load() {
			return nil, rpc.Errorf(rpc.CodeInternal, "ledger broken")
		}
		return &rpc.Message{Data: []byte(`{}`)}, nil
	})
	return newClient(t, srv, rpc.WithRetries(0, 0), rpc.WithBreaker(s)), failing
}

// waitHalfOpen waits until client's payment breaker lets a probe through
// and returns how long it stayed open from since.
func waitHalfOpen(t *testing.T, client *rpc.Client, since time.Time) time.Duration {
	t.Helper()
	natstest.CheckFor(t, 5*time.Second, 2*time.Millisecond, func() error {
		if st := client.BreakerState("payment"); st != "half-open" {
			return fmt.Errorf("state %q, want half-open", st)
		}
		return nil
	})
	return time.Since(since)
}

// Each trip after a failed probe doubles the open window (with jitter of
// at most a fifth down) up to OpenFor; a successful probe closes the
// breaker and the next trip starts from MinOpenFor again.
func TestBreakerWindowDoublesOnConsecutiveTrips(t *testing.T) {
	t.Parallel()
	const minOpen, maxOpen = 100 * time.Millisecond, 400 * time.Millisecond
	var ws windows
	client, failing := failingBooth(t, rpc.BreakerSettings{
		Failures: 3, OpenFor: maxOpen, MinOpenFor: minOpen, HalfOpenCalls: 1, OnOpen: ws.record})
	call := func() error {
		_, err := client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`))
		return err
	}
	for range 3 {
		_ = call()
	}
	tripped := time.Now()
	want := []time.Duration{minOpen, 2 * minOpen, 4 * minOpen, maxOpen}
	for i := range want {
		open := waitHalfOpen(t, client, tripped)
		w := ws.all()
		if len(w) != i+1 {
			t.Fatalf("after %d trips: %d windows recorded", i+1, len(w))
		}
		if got := w[i]; got > want[i] || got < want[i]-want[i]/5 {
			t.Errorf("trip %d: window %v, want %v jittered down by at most a fifth", i+1, got, want[i])
		}
		if open < w[i] {
			t.Errorf("trip %d: half-open after %v, before its window %v", i+1, open, w[i])
		}
		t.Logf("trip %d: window %v, half-open after %v", i+1, w[i], open.Round(time.Millisecond))
		if i == len(want)-1 {
			break
		}
		if err := call(); rpc.CodeOf(err) != rpc.CodeInternal {
			t.Fatalf("probe %d: %v, want the booth's 500", i+1, err)
		}
		tripped = time.Now()
		if st := client.BreakerState("payment"); st != "open" {
			t.Fatalf("after failed probe %d: state %q, want open", i+1, st)
		}
	}

	failing.Store(false)
	if err := call(); err != nil {
		t.Fatalf("probe after the booth recovered: %v", err)
	}
	if st := client.BreakerState("payment"); st != "closed" {
		t.Fatalf("after a successful probe: state %q, want closed", st)
	}
	failing.Store(true)
	for range 3 {
		_ = call()
	}
	w := ws.all()
	if len(w) != 5 || w[4] > minOpen || w[4] < minOpen-minOpen/5 {
		t.Errorf("windows %v: want a fifth trip back at %v", w, minOpen)
	}
}

// MinOpenFor 0 keeps the seed's fixed window: every trip opens for OpenFor.
func TestBreakerFixedWindow(t *testing.T) {
	t.Parallel()
	const openFor = 150 * time.Millisecond
	var ws windows
	client, _ := failingBooth(t, rpc.BreakerSettings{Failures: 1, OpenFor: openFor, HalfOpenCalls: 1, OnOpen: ws.record})
	_, _ = client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`))
	for range 2 {
		tripped := time.Now()
		if open := waitHalfOpen(t, client, tripped); open < openFor {
			t.Errorf("half-open after %v, before %v", open, openFor)
		}
		_, _ = client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`))
	}
	for i, w := range ws.all() {
		if w != openFor {
			t.Errorf("trip %d: window %v, want %v", i+1, w, openFor)
		}
	}
	if n := len(ws.all()); n != 3 {
		t.Errorf("%d trips, want 3", n)
	}
}

// A booth answering "store unavailable", or shedding load with a retry
// hint, is alive: neither opens its breaker. A plain 503 still does.
func TestBreakerIgnoresStoreUnavailableAndShed(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "audit-log")
	handleRaw(t, b, "/store", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "audit-log: %w: no stream leader", rpc.ErrStoreUnavailable)
	})
	handleRaw(t, b, "/shed", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		return &rpc.Message{Header: nats.Header{rpc.HeaderRetryAfter: []string{"50"}}}, rpc.Errorf(rpc.CodeUnavailable, "audit-log: queue full")
	})
	handleRaw(t, b, "/down", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "audit-log: down")
	})
	client := newClient(t, s, rpc.WithRetries(0, 0), rpc.WithBreaker(rpc.BreakerSettings{
		Failures: 3, OpenFor: time.Minute, MinOpenFor: time.Second, HalfOpenCalls: 1}))
	const calls = 10
	for _, path := range []string{"/store", "/shed"} {
		for i := range calls {
			_, err := client.CallRaw(context.Background(), "audit-log", path, []byte(`{}`))
			if rpc.CodeOf(err) != rpc.CodeUnavailable || errors.Is(err, rpc.ErrBreakerOpen) {
				t.Fatalf("%s call %d: %v, want the booth's 503", path, i+1, err)
			}
			if path == "/store" && !errors.Is(err, rpc.ErrStoreUnavailable) {
				t.Fatalf("%s call %d: %v does not match ErrStoreUnavailable", path, i+1, err)
			}
		}
		if st := client.BreakerState("audit-log"); st != "closed" {
			t.Fatalf("after %d answers of %s: state %q, want closed", calls, path, st)
		}
	}
	for range 3 {
		_, _ = client.CallRaw(context.Background(), "audit-log", "/down", []byte(`{}`))
	}
	if st := client.BreakerState("audit-log"); st != "open" {
		t.Errorf("after 3 plain 503s: state %q, want open", st)
	}
}
