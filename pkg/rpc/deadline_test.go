package rpc_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// The caller's deadline travels with the call: the handler's ctx ends when
// the caller stops waiting, and no attempt starts after it.
func TestCallerDeadlineReachesHandler(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "license-printer")
	var runs atomic.Int32
	type view struct {
		deadline  time.Time
		remaining time.Duration
		doneErr   error
	}
	seen := make(chan view, 4)
	handleRaw(t, b, "/generate", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		runs.Add(1)
		dl, _ := ctx.Deadline()
		v := view{deadline: dl, remaining: time.Until(dl)}
		<-ctx.Done() // still running past the caller's deadline
		v.doneErr = ctx.Err()
		seen <- v
		return nil, ctx.Err()
	})
	client := newClient(t, s) // attempt timeout 300 ms: the caller's 150 ms is the tighter bound

	const budget = 150 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	callerDeadline, _ := ctx.Deadline()
	start := time.Now()
	_, err := client.CallRaw(ctx, "license-printer", "/generate", []byte(`{}`))
	elapsed := time.Since(start)

	if got := rpc.CodeOf(err); got != rpc.CodeDeadlineExceeded {
		t.Fatalf("code = %v, want %v (err %v)", got, rpc.CodeDeadlineExceeded, err)
	}
	if elapsed > budget+100*time.Millisecond {
		t.Errorf("call returned after %v, want about %v", elapsed, budget)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1: no attempt may start past the caller's deadline", got)
	}
	v := recv(t, seen)
	t.Logf("deadline: handler had %v of the caller's %v; call failed after %v", v.remaining.Round(time.Millisecond), budget, elapsed.Round(time.Millisecond))
	if v.remaining <= 0 || v.remaining > budget {
		t.Errorf("handler's remaining budget = %v, want within (0, %v]", v.remaining, budget)
	}
	if skew := v.deadline.Sub(callerDeadline); skew > 10*time.Millisecond {
		t.Errorf("handler's deadline is %v after the caller's", skew)
	}
	if !errors.Is(v.doneErr, context.DeadlineExceeded) {
		t.Errorf("handler's ctx ended with %v, want DeadlineExceeded", v.doneErr)
	}
}

// A call whose ctx is already over is refused before anything is published.
func TestEndedContextNeverSent(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	var runs atomic.Int32
	handleRaw(t, b, "/calculate", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		runs.Add(1)
		return ok()
	})
	nc := natstest.Connect(t, s)
	client, err := rpc.NewClient(nc)
	if err != nil {
		t.Fatal(err)
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()

	tests := []struct {
		name     string
		ctx      context.Context
		wantCode rpc.Code
	}{
		{"deadline passed", expired, rpc.CodeDeadlineExceeded},
		{"cancelled", cancelled, rpc.CodeCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := nc.Stats().OutMsgs
			_, err := client.CallRaw(tc.ctx, "fee-calc", "/calculate", []byte(`{}`))
			if got := rpc.CodeOf(err); got != tc.wantCode {
				t.Errorf("code = %v, want %v (err %v)", got, tc.wantCode, err)
			}
			if sent := nc.Stats().OutMsgs - before; sent != 0 {
				t.Errorf("%d messages published, want none", sent)
			}
		})
	}
	// A live call afterwards is served, and is the only one the handler saw.
	if _, err := client.CallRaw(context.Background(), "fee-calc", "/calculate", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1 (only the live call)", got)
	}
}

// Without a deadline from the caller, the booth's default bounds the handler.
func TestBoothDefaultTimeout(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "audit-log", rpc.WithDefaultTimeout(50*time.Millisecond))
	handleRaw(t, b, "/record", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	nc := natstest.Connect(t, s)
	// A plain NATS request carries no Svc-Timeout-Ms.
	msg, err := nc.Request("svc.audit-log.record", []byte(`{}`), 2*time.Second)
	if err != nil {
		t.Fatalf("plain request: %v", err)
	}
	if got, want := msg.Header.Get(rpc.HeaderErrorCode), "504"; got != want {
		t.Errorf("%s = %q, want %q (%s)", rpc.HeaderErrorCode, got, want, msg.Header.Get(rpc.HeaderError))
	}
}
