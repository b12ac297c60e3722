package rpc

import (
	"context"
	"errors"
	"testing"
	"time"
)

type lazyKey struct{}

// A lazy deadline answers Err, Deadline, Value and Cause as
// context.WithDeadline would, whether or not anything armed it.
func TestLazyDeadline(t *testing.T) {
	t.Parallel()
	past, future := time.Now().Add(-time.Millisecond), time.Now().Add(time.Hour)
	tests := []struct {
		name     string
		deadline time.Time
		cancel   bool // cancel the parent
		release  bool
		arm      bool
		wantErr  error
	}{
		{"running", future, false, false, false, nil},
		{"running, armed", future, false, false, true, nil},
		{"deadline passed", past, false, false, false, context.DeadlineExceeded},
		{"deadline passed, armed", past, false, false, true, context.DeadlineExceeded},
		{"parent canceled", future, true, false, false, context.Canceled},
		{"parent canceled, armed", future, true, false, true, context.Canceled},
		{"released", future, false, true, false, context.Canceled},
		{"released, then armed", future, false, true, true, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent, cancel := context.WithCancel(context.WithValue(context.Background(), lazyKey{}, "v"))
			defer cancel()
			ctx := withLazyDeadline(parent, tc.deadline)
			defer ctx.release()
			if tc.cancel {
				cancel()
			}
			if tc.release {
				ctx.release()
			}
			if tc.arm {
				select {
				case <-ctx.Done():
					if tc.wantErr == nil {
						t.Fatal("Done closed while the context runs")
					}
				case <-time.After(10 * time.Millisecond):
					if tc.wantErr != nil {
						t.Fatal("Done not closed once the context ended")
					}
				}
			}
			if got := ctx.Err(); !errors.Is(got, tc.wantErr) || (got == nil) != (tc.wantErr == nil) {
				t.Errorf("Err() = %v, want %v", got, tc.wantErr)
			}
			if got := context.Cause(ctx); (got == nil) != (tc.wantErr == nil) || !errors.Is(got, tc.wantErr) {
				t.Errorf("Cause() = %v, want %v", got, tc.wantErr)
			}
			if dl, ok := ctx.Deadline(); !ok || !dl.Equal(tc.deadline) {
				t.Errorf("Deadline() = %v, %v; want %v, true", dl, ok, tc.deadline)
			}
			if got := ctx.Value(lazyKey{}); got != "v" {
				t.Errorf("Value() = %v, want the parent's v", got)
			}
		})
	}
}

// Done closes when the deadline passes, and a context derived from a lazy
// deadline ends with it.
func TestLazyDeadlineFires(t *testing.T) {
	t.Parallel()
	ctx := withLazyDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	defer ctx.release()
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("derived context not ended by the deadline")
	}
	if !errors.Is(child.Err(), context.DeadlineExceeded) || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err() = %v (derived %v), want DeadlineExceeded", ctx.Err(), child.Err())
	}
}

// A computing handler's deadline and a timed request's never arm a timer.
func TestLazyDeadlineUnarmedByReads(t *testing.T) {
	t.Parallel()
	ctx := withLazyDeadline(context.Background(), time.Now().Add(time.Hour))
	defer ctx.release()
	_ = ctx.Err()
	_, _ = ctx.Deadline()
	_ = ctx.Value(lazyKey{})
	_ = withCallInfo(ctx, &CallInfo{}).Value(callInfoKey{})
	if !ctx.unarmed() {
		t.Error("reading the context armed its deadline")
	}
}
