package rpc_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// An attempt the booth never answers is retried with the same request id.
func TestRetryAfterDroppedAttempt(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	type delivery struct {
		id, attemptHeader string
		attempt           int
	}
	var mu sync.Mutex
	var got []delivery
	handleRaw(t, b, "/calculate", func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
		ci, _ := rpc.CallInfoFromContext(ctx)
		mu.Lock()
		got = append(got, delivery{ci.RequestID, req.Header.Get(rpc.HeaderAttempt), ci.Attempt})
		mu.Unlock()
		if ci.Attempt == 1 {
			<-ctx.Done() // the first attempt is lost: no reply in time
			return nil, ctx.Err()
		}
		return &rpc.Message{Data: []byte(`{"amount":125}`)}, nil
	})
	client := newClient(t, s, rpc.WithAttemptTimeout(100*time.Millisecond))

	data, err := client.CallRaw(context.Background(), "fee-calc", "/calculate", []byte(`{}`))
	if err != nil {
		t.Fatalf("CallRaw: %v", err)
	}
	if string(data) != `{"amount":125}` {
		t.Errorf("reply = %s", data)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("handler saw %d deliveries, want 2: %+v", len(got), got)
	}
	if got[0].id == "" || got[0].id != got[1].id {
		t.Errorf("request ids %q and %q: want one non-empty id on both attempts", got[0].id, got[1].id)
	}
	if got[0].attempt != 1 || got[0].attemptHeader != "" {
		t.Errorf("first delivery: attempt %d, header %q; want 1 and no header", got[0].attempt, got[0].attemptHeader)
	}
	if got[1].attempt != 2 || got[1].attemptHeader != "2" {
		t.Errorf("second delivery: attempt %d, header %q; want 2 and \"2\"", got[1].attempt, got[1].attemptHeader)
	}
}

// A booth's coded answer means the call was processed: it is never retried.
func TestApplicationErrorsNotRetried(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "payment")
	tests := []struct {
		path     string
		err      error
		wantCode rpc.Code
		wantMsg  string
	}{
		{"/conflict", rpc.Errorf(rpc.CodeConflict, "request id reused with another body"), rpc.CodeConflict, "request id reused with another body"},
		{"/internal", rpc.Errorf(rpc.CodeInternal, "ledger unavailable"), rpc.CodeInternal, "ledger unavailable"},
		{"/uncoded", errors.New("secret detail"), rpc.CodeInternal, "internal error in payment /uncoded"},
		{"/unavailable", rpc.Errorf(rpc.CodeUnavailable, "bank down"), rpc.CodeUnavailable, "bank down"},
		{"/timeout", rpc.Errorf(rpc.CodeDeadlineExceeded, "bank slow"), rpc.CodeDeadlineExceeded, "bank slow"},
	}
	counts := make(map[string]*atomic.Int32)
	for _, tc := range tests {
		n := new(atomic.Int32)
		counts[tc.path] = n
		handleRaw(t, b, tc.path, func(context.Context, *rpc.Message) (*rpc.Message, error) {
			n.Add(1)
			return nil, tc.err
		})
	}
	client := newClient(t, s, rpc.WithoutBreaker())
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, err := client.CallRaw(context.Background(), "payment", tc.path, []byte(`{}`))
			if got := rpc.CodeOf(err); got != tc.wantCode {
				t.Errorf("code = %v, want %v (err %v)", got, tc.wantCode, err)
			}
			if got := rpc.MessageOf(err); got != tc.wantMsg {
				t.Errorf("message = %q, want %q", got, tc.wantMsg)
			}
			if got := counts[tc.path].Load(); got != 1 {
				t.Errorf("handler ran %d times, want 1", got)
			}
			var ae *rpc.AttemptsError
			if errors.As(err, &ae) {
				t.Errorf("error carries %d attempts, want none: %v", len(ae.Attempts), err)
			}
		})
	}
}

// With nothing subscribed, the call fails at once on every attempt: no
// attempt waits for its timeout.
func TestNoResponders(t *testing.T) {
	s := natstest.Start(t)
	client := newClient(t, s)

	start := time.Now()
	_, err := client.CallRaw(context.Background(), "ghost", "/haunt", []byte(`{}`))
	elapsed := time.Since(start)
	t.Logf("no responders: failed after %v", elapsed)

	if !errors.Is(err, rpc.ErrNoInstance) {
		t.Fatalf("err = %v, want errors.Is ErrNoInstance", err)
	}
	if got := rpc.CodeOf(err); got != rpc.CodeUnavailable {
		t.Errorf("code = %v, want %v", got, rpc.CodeUnavailable)
	}
	if got := rpc.MessageOf(err); !strings.HasPrefix(got, "no running instance of ghost") {
		t.Errorf("message = %q, want it to start with %q", got, "no running instance of ghost")
	}
	if elapsed >= 150*time.Millisecond {
		t.Errorf("took %v, want < 150ms (no attempt may wait for its timeout)", elapsed)
	}
	var ae *rpc.AttemptsError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an AttemptsError inside", err)
	}
	if got, want := len(ae.Attempts), 1+rpc.DefaultRetries; got != want {
		t.Fatalf("kept %d attempts, want %d", got, want)
	}
	for i, a := range ae.Attempts {
		if !errors.Is(a, rpc.ErrNoInstance) {
			t.Errorf("attempt %d: %v, want ErrNoInstance", i+1, a)
		}
	}
	if !errors.Is(ae.Final(), rpc.ErrNoInstance) {
		t.Errorf("Final() = %v", ae.Final())
	}
}

// WithRetries(0, ...) sends exactly one attempt.
func TestNoRetries(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	var n atomic.Int32
	handleRaw(t, b, "/calculate", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		n.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	client := newClient(t, s, rpc.WithRetries(0, 0), rpc.WithAttemptTimeout(50*time.Millisecond))
	_, err := client.CallRaw(context.Background(), "fee-calc", "/calculate", []byte(`{}`))
	if got := rpc.CodeOf(err); got != rpc.CodeDeadlineExceeded {
		t.Fatalf("code = %v, want %v (err %v)", got, rpc.CodeDeadlineExceeded, err)
	}
	natstest.CheckFor(t, time.Second, 5*time.Millisecond, func() error {
		if n.Load() == 0 {
			return errors.New("handler never ran")
		}
		return nil
	})
	if got := n.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}
