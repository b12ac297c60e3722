package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// countAttempts is an attempt middleware counting the attempts sent.
func countAttempts(n *atomic.Int64) rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			n.Add(1)
			return next(ctx, req)
		}
	}
}

// load makes calls calls to service path from workers goroutines and returns
// every call's error (nil for a success).
func load(client *rpc.Client, service, path string, calls, workers int) []error {
	errs := make([]error, calls)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < calls; i = int(next.Add(1)) - 1 {
				_, errs[i] = client.CallRaw(context.Background(), service, path, []byte(`{}`))
			}
		})
	}
	wg.Wait()
	return errs
}

// A booth that never answers gets at most 1.2 attempts per call from a
// client with the default budget, where it would get 3 without one.
func TestRetryBudgetSparesDeadBooth(t *testing.T) {
	t.Parallel()
	const calls, workers = 300, 8
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	var atBooth atomic.Int64
	handleRaw(t, b, "/calculate", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		atBooth.Add(1)
		<-ctx.Done() // dead: never answers
		return nil, ctx.Err()
	})
	var sent atomic.Int64
	client := newClient(t, s, rpc.WithAttemptTimeout(20*time.Millisecond), rpc.WithoutBreaker(),
		rpc.WithAttemptMiddleware(countAttempts(&sent)))

	start := time.Now()
	errs := load(client, "fee-calc", "/calculate", calls, workers)
	elapsed := time.Since(start)
	natstest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if got, want := atBooth.Load(), sent.Load(); got != want {
			return fmt.Errorf("booth saw %d attempts of the %d sent", got, want)
		}
		return nil
	})

	refused := 0
	for i, err := range errs {
		if got := rpc.CodeOf(err); got != rpc.CodeDeadlineExceeded {
			t.Fatalf("call %d: code %v, want %v (err %v)", i, got, rpc.CodeDeadlineExceeded, err)
		}
		if errors.Is(err, rpc.ErrRetryBudgetExhausted) {
			refused++
			if msg := rpc.MessageOf(err); !strings.Contains(msg, "retry budget for fee-calc exhausted") {
				t.Errorf("call %d: message %q does not name the exhausted budget", i, msg)
			}
		}
	}
	ratio := float64(atBooth.Load()) / calls
	t.Logf("dead booth: %d calls from %d goroutines in %v: %d attempts at the booth, %.3f per call; %d calls refused a retry by the budget",
		calls, workers, elapsed.Round(time.Millisecond), atBooth.Load(), ratio, refused)
	if ratio > 1.2 {
		t.Errorf("attempts per call at the dead booth = %.3f, want <= 1.2", ratio)
	}
	if ratio < 1.1 {
		t.Errorf("attempts per call = %.3f: the budget should still let about 20%% of calls retry", ratio)
	}
	if refused == 0 {
		t.Error("no call reports the exhausted budget")
	}
}

// A healthy booth that drops one first attempt in ten still answers every
// call: its retries stay well within the budget.
func TestRetryBudgetLetsFlakyBoothRetry(t *testing.T) {
	t.Parallel()
	const calls, workers = 300, 8
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	var firsts, atBooth atomic.Int64
	handleRaw(t, b, "/calculate", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		atBooth.Add(1)
		if ci, _ := rpc.CallInfoFromContext(ctx); ci.Attempt == 1 && firsts.Add(1)%10 == 0 {
			<-ctx.Done() // dropped
			return nil, ctx.Err()
		}
		return ok()
	})
	client := newClient(t, s, rpc.WithAttemptTimeout(50*time.Millisecond), rpc.WithoutBreaker())

	failed := 0
	for i, err := range load(client, "fee-calc", "/calculate", calls, workers) {
		if err != nil {
			failed++
			t.Errorf("call %d: %v", i, err)
		}
	}
	t.Logf("flaky booth: %d calls, %d attempts at the booth, %d failed", calls, atBooth.Load(), failed)
	if got, want := atBooth.Load(), int64(calls+calls/10); got != want {
		t.Errorf("booth saw %d attempts, want %d (one retry per dropped first attempt)", got, want)
	}
}
