package bench

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClosedCountsOnlyTheMeasuredWindow(t *testing.T) {
	op := func(context.Context) error { time.Sleep(time.Millisecond); return nil }
	res, err := Closed(context.Background(), 4, 50*time.Millisecond, 200*time.Millisecond, op)
	if err != nil {
		t.Fatal(err)
	}
	// 4 callers of ~1 ms calls for 200 ms: at most ~800 calls, and far
	// fewer than the warm-up plus window would give if both counted.
	if res.Calls == 0 || res.Calls > 900 {
		t.Errorf("Calls = %d, want in (0, 900]", res.Calls)
	}
	if got := res.Latency.Quantile(0.5); got < time.Millisecond {
		t.Errorf("p50 = %v, want at least the 1 ms each call sleeps", got)
	}
}

// A rare failure is counted and reported; more than MaxErrorRate fail the
// run, naming the first error.
func TestRunsTolerateRareErrorsOnly(t *testing.T) {
	boom := errors.New("boom")
	var n atomic.Int64
	rare := func(context.Context) error {
		if n.Add(1)%1000 == 0 {
			return boom
		}
		return nil
	}
	always := func(context.Context) error { return boom }
	tests := []struct {
		name    string
		run     func(Op) (Result, error)
		op      Op
		wantErr bool
	}{
		{"closed, rare", func(op Op) (Result, error) { return Closed(context.Background(), 2, 0, 100*time.Millisecond, op) }, rare, false},
		{"closed, always", func(op Op) (Result, error) { return Closed(context.Background(), 2, 0, 100*time.Millisecond, op) }, always, true},
		{"open, always", func(op Op) (Result, error) { return Open(context.Background(), 200, 2, 100*time.Millisecond, op) }, always, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run(tt.op)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if tt.wantErr && !strings.Contains(err.Error(), "boom") {
				t.Errorf("err = %v, want it to name the first failure", err)
			}
			if !tt.wantErr && (res.Errors == 0 || res.FirstError != "boom") {
				t.Errorf("Errors = %d, FirstError %q; want the rare failures counted", res.Errors, res.FirstError)
			}
		})
	}
}

// A call that blocks the only worker delays the calls scheduled behind it;
// open-loop timing charges them that wait.
func TestOpenTimesFromTheScheduledSend(t *testing.T) {
	first := true
	op := func(context.Context) error {
		if first {
			first = false
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	}
	res, err := Open(context.Background(), 200, 1, 200*time.Millisecond, op)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Calls, uint64(40); got != want {
		t.Errorf("Calls = %d, want %d", got, want)
	}
	// The calls scheduled during the first one's 50 ms (about 10 of 40)
	// waited for it: p75 and above must show it.
	if got := res.Latency.Quantile(0.9); got < 10*time.Millisecond {
		t.Errorf("p90 = %v, want the queueing behind the slow call (>= 10ms)", got)
	}
}
