package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// transitions records a breaker's state changes with their times.
type transitions struct {
	mu  sync.Mutex
	at  map[string]time.Time // "from>to" -> time of the last such change
	seq []string
}

func (tr *transitions) record(_ string, from, to gobreaker.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.at == nil {
		tr.at = make(map[string]time.Time)
	}
	k := from.String() + ">" + to.String()
	tr.at[k] = time.Now()
	tr.seq = append(tr.seq, k)
}

func (tr *transitions) when(k string) time.Time {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.at[k]
}

func (tr *transitions) sequence() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.seq...)
}

func TestBreakerOpensFailsFastProbesAndCloses(t *testing.T) {
	s := natstest.Start(t)
	b := startBooth(t, s, "payment")
	var (
		calls   atomic.Int32
		failing atomic.Bool
		hold    = make(chan struct{}) // closed to let a held probe finish
		holding atomic.Bool
		entered = make(chan struct{}, 1)
	)
	failing.Store(true)
	handleRaw(t, b, "/charge", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		calls.Add(1)
		if holding.Load() {
			entered <- struct{}{}
			<-hold
		}
		if failing.Load() {
			return nil, rpc.Errorf(rpc.CodeInternal, "ledger unavailable")
		}
		return ok()
	})
	var tr transitions
	const openFor = 200 * time.Millisecond
	client := newClient(t, s, rpc.WithBreaker(rpc.BreakerSettings{
		Failures: 3, OpenFor: openFor, HalfOpenCalls: 1, OnStateChange: tr.record,
	}), rpc.WithAttemptTimeout(2*time.Second))
	call := func() error {
		_, err := client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`))
		return err
	}

	// Three failures open the breaker.
	start := time.Now()
	for i := range 3 {
		if state := client.BreakerState("payment"); state != "closed" {
			t.Fatalf("before failure %d: state %q, want closed", i+1, state)
		}
		if err := call(); rpc.CodeOf(err) != rpc.CodeInternal {
			t.Fatalf("failing call %d: %v, want a 500", i+1, err)
		}
	}
	if state := client.BreakerState("payment"); state != "open" {
		t.Fatalf("after 3 failures: state %q, want open", state)
	}
	openedAt := tr.when("closed>open")
	t.Logf("breaker: opened %v after the first failing call", openedAt.Sub(start))

	// While open, calls fail fast and the booth sees none of them.
	before := calls.Load()
	const whileOpen = 20
	var slowest time.Duration
	for i := range whileOpen {
		t0 := time.Now()
		err := call()
		if d := time.Since(t0); d > slowest {
			slowest = d
		}
		if !errors.Is(err, rpc.ErrBreakerOpen) {
			t.Fatalf("call %d while open: %v, want ErrBreakerOpen", i+1, err)
		}
		if got := rpc.CodeOf(err); got != rpc.CodeUnavailable {
			t.Errorf("call %d while open: code %v, want %v", i+1, got, rpc.CodeUnavailable)
		}
	}
	if got := calls.Load() - before; got != 0 {
		t.Errorf("booth saw %d calls while the breaker was open, want 0", got)
	}
	t.Logf("breaker: %d calls refused while open, slowest refusal %v", whileOpen, slowest)
	if slowest > 20*time.Millisecond {
		t.Errorf("slowest refusal took %v: not failing fast", slowest)
	}

	// After the window, one probe reaches the booth; a second concurrent call
	// is refused; the probe's success closes the breaker.
	natstest.CheckFor(t, 2*openFor, 5*time.Millisecond, func() error {
		if state := client.BreakerState("payment"); state != "half-open" {
			return fmt.Errorf("state %q, want half-open", state)
		}
		return nil
	})
	halfOpenAt := time.Now()
	if waited := halfOpenAt.Sub(openedAt); waited < openFor {
		t.Errorf("half-open %v after opening, want at least %v", waited, openFor)
	}
	failing.Store(false)
	holding.Store(true)
	before = calls.Load()
	probe := make(chan error, 1)
	go func() { probe <- call() }()
	recv(t, entered)
	holding.Store(false)
	if err := call(); !errors.Is(err, rpc.ErrBreakerOpen) {
		t.Errorf("call during the probe: %v, want ErrBreakerOpen", err)
	}
	close(hold)
	if err := recv(t, probe); err != nil {
		t.Fatalf("probe: %v", err)
	}
	probes := calls.Load() - before
	if probes != 1 {
		t.Errorf("booth saw %d calls in half-open, want 1 probe", probes)
	}
	if state := client.BreakerState("payment"); state != "closed" {
		t.Fatalf("after a successful probe: state %q, want closed", state)
	}
	closedAt := tr.when("half-open>closed")
	t.Logf("breaker: half-open %v after opening, %d probe(s), closed %v after opening",
		halfOpenAt.Sub(openedAt).Round(time.Millisecond), probes, closedAt.Sub(openedAt).Round(time.Millisecond))

	if err := call(); err != nil {
		t.Errorf("call after closing: %v", err)
	}
	if got, want := fmt.Sprint(tr.sequence()), "[closed>open open>half-open half-open>closed]"; got != want {
		t.Errorf("transitions %s, want %s", got, want)
	}
}

// A failed probe opens the breaker again for another window.
func TestBreakerFailedProbeReopens(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "payment")
	handleRaw(t, b, "/charge", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		return nil, rpc.Errorf(rpc.CodeInternal, "ledger unavailable")
	})
	client := newClient(t, s, rpc.WithBreaker(rpc.BreakerSettings{Failures: 3, OpenFor: 100 * time.Millisecond, HalfOpenCalls: 1}))
	for range 3 {
		_, _ = client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`))
	}
	natstest.CheckFor(t, time.Second, 5*time.Millisecond, func() error {
		if state := client.BreakerState("payment"); state != "half-open" {
			return fmt.Errorf("state %q, want half-open", state)
		}
		return nil
	})
	if _, err := client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`)); rpc.CodeOf(err) != rpc.CodeInternal {
		t.Fatalf("probe: %v, want the booth's 500", err)
	}
	if state := client.BreakerState("payment"); state != "open" {
		t.Errorf("after a failed probe: state %q, want open", state)
	}
}

// Caller mistakes and cancellations say nothing of the booth's health.
func TestBreakerIgnoresCallerMistakesAndCancellations(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	entered := make(chan struct{}, 1)
	handleRaw(t, b, "/missing", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		return nil, rpc.Errorf(rpc.CodeNotFound, "no fee for license type")
	})
	handleRaw(t, b, "/forbidden", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		return nil, rpc.Errorf(rpc.CodePermissionDenied, "not allowed")
	})
	if err := rpc.Handle(b, "/typed", func(context.Context, *FeeRequest) (*FeeReply, error) { return &FeeReply{}, nil }); err != nil {
		t.Fatal(err)
	}
	handleRaw(t, b, "/slow", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	handleRaw(t, b, "/broken", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		return nil, rpc.Errorf(rpc.CodeInternal, "broken")
	})
	client := newClient(t, s, rpc.WithBreaker(rpc.BreakerSettings{Failures: 3, OpenFor: time.Minute, HalfOpenCalls: 1}))

	expired, cancelExpired := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelExpired()
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	tests := []struct {
		name     string
		call     func() error
		wantCode rpc.Code
	}{
		{"404", func() error {
			_, err := client.CallRaw(context.Background(), "fee-calc", "/missing", []byte(`{}`))
			return err
		}, rpc.CodeNotFound},
		{"403", func() error {
			_, err := client.CallRaw(context.Background(), "fee-calc", "/forbidden", []byte(`{}`))
			return err
		}, rpc.CodePermissionDenied},
		{"400 bad body", func() error {
			_, err := client.CallRaw(context.Background(), "fee-calc", "/typed", []byte(`{`))
			return err
		}, rpc.CodeBadRequest},
		{"cancelled mid-call", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-entered; cancel() }()
			_, err := client.CallRaw(ctx, "fee-calc", "/slow", []byte(`{}`))
			return err
		}, rpc.CodeCanceled},
		{"cancelled before the call", func() error {
			_, err := client.CallRaw(cancelled, "fee-calc", "/broken", []byte(`{}`))
			return err
		}, rpc.CodeCanceled},
		{"deadline passed before the call", func() error {
			_, err := client.CallRaw(expired, "fee-calc", "/broken", []byte(`{}`))
			return err
		}, rpc.CodeDeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 4 {
				if got := rpc.CodeOf(tc.call()); got != tc.wantCode {
					t.Fatalf("call %d: code %v, want %v", i+1, got, tc.wantCode)
				}
			}
			if state := client.BreakerState("fee-calc"); state != "closed" {
				t.Errorf("after 4 calls: breaker %q, want closed", state)
			}
		})
	}
	// The breaker is live: three booth failures do open it.
	for range 3 {
		_, _ = client.CallRaw(context.Background(), "fee-calc", "/broken", []byte(`{}`))
	}
	if state := client.BreakerState("fee-calc"); state != "open" {
		t.Errorf("after 3 failures: breaker %q, want open", state)
	}
}

// Calls made while no instance runs do not open the breaker: the first call
// once an instance starts is served.
func TestBreakerIgnoresNoInstance(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	client := newClient(t, s, rpc.WithBreaker(rpc.BreakerSettings{Failures: 3, OpenFor: time.Minute, HalfOpenCalls: 1}))
	for i := range 5 {
		if _, err := client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`)); !errors.Is(err, rpc.ErrNoInstance) {
			t.Fatalf("call %d: %v, want ErrNoInstance", i+1, err)
		}
	}
	if state := client.BreakerState("payment"); state != "closed" {
		t.Fatalf("after calls with no instance: breaker %q, want closed", state)
	}
	b := startBooth(t, s, "payment")
	handleRaw(t, b, "/charge", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() })
	if _, err := client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`)); err != nil {
		t.Errorf("first call once an instance runs: %v", err)
	}
}

// The breakers of WithKnownServices exist from the client's making, closed;
// another service's appears at its first call; a client without a breaker
// holds none.
func TestKnownServicesHaveBreakersFromTheStart(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	nc := natstest.Connect(t, s)
	c, err := rpc.NewClient(nc, rpc.WithKnownServices("fee-calc", "payment", "fee-calc"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BreakerStates(), map[string]string{"fee-calc": "closed", "payment": "closed"}; !maps.Equal(got, want) {
		t.Errorf("breakers of a new client = %v, want %v", got, want)
	}
	if err := c.Call(t.Context(), "audit-log", "/record", struct{}{}, nil); !errors.Is(err, rpc.ErrNoInstance) {
		t.Fatalf("call with no booth: %v, want ErrNoInstance", err)
	}
	if got := len(c.BreakerStates()); got != 3 {
		t.Errorf("after a call to audit-log the client holds %d breakers (%v), want 3", got, c.BreakerStates())
	}
	off, err := rpc.NewClient(nc, rpc.WithKnownServices("fee-calc"), rpc.WithoutBreaker())
	if err != nil {
		t.Fatal(err)
	}
	if got := off.BreakerStates(); len(got) != 0 {
		t.Errorf("breakers of a client without one = %v, want none", got)
	}
}
