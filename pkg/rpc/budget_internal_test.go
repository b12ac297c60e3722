package rpc

import (
	"errors"
	"fmt"
	"testing"
)

// testBudget returns a fresh budget of ratio 0.2 and floor 10/s on a clock
// the test moves.
func testBudget(now *int64) *retryBudget {
	bs := newRetryBudgets(0.2, 10)
	return newRetryBudget(bs.share, bs.floor, func() int64 { return *now })
}

// drain withdraws until the budget refuses and returns how many it granted.
func drain(b *retryBudget) int {
	n := 0
	for b.withdraw() {
		n++
	}
	return n
}

// The budget's arithmetic, one tick (second) at a time: the floor is a
// minimum per second, not an addition to the share.
func TestRetryBudgetTokens(t *testing.T) {
	t.Parallel()
	type tick struct {
		calls int // calls made in the tick before its retries
		want  int // retries granted in the tick
	}
	tests := []struct {
		name  string
		ticks []tick
	}{
		{"fresh budget grants the floor at once", []tick{{0, 10}}},
		{"first calls repay the advance", []tick{{50, 10}}},
		{"share beyond the floor", []tick{{100, 20}}},
		{"sustained failure: share only", []tick{{100, 20}, {100, 20}, {100, 20}, {400, 80}}},
		{"few calls: floor every second", []tick{{1, 10}, {1, 10}, {2, 10}}},
		{"few calls after a fresh start", []tick{{0, 10}, {0, 10}, {3, 10}}},
		// The floor returns one second after the traffic fell under it.
		{"traffic falls under the floor", []tick{{200, 40}, {5, 1}, {5, 10}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var now int64
			b := testBudget(&now)
			for i, tk := range tc.ticks {
				// Retries of the previous tick are settled once its second is over.
				now = int64(i) * budgetTick
				for range tk.calls {
					b.deposit()
				}
				if got := drain(b); got != tk.want {
					t.Errorf("tick %d: %d calls got %d retries, want %d", i+1, tk.calls, got, tk.want)
				}
			}
		})
	}
}

// Tokens a healthy service does not spend carry over one second's worth
// only, so a booth that dies after a busy healthy spell is not hammered by
// what that spell saved.
func TestRetryBudgetCarryIsBounded(t *testing.T) {
	t.Parallel()
	var now int64
	b := testBudget(&now)
	for range 10 { // ten healthy seconds of 1000 calls each
		for range 1000 {
			b.deposit()
		}
		now += budgetTick
	}
	got := drain(b)
	if want := 10 + 200; got != want {
		t.Errorf("after healthy seconds the budget granted %d retries at once, want %d (floor + 1 s of share)", got, want)
	}
	now += 60 * budgetTick // an idle minute
	if got := drain(b); got != 10 {
		t.Errorf("after an idle minute the budget granted %d retries, want the floor's 10", got)
	}
}

func TestBudgetRefusalIsNamed(t *testing.T) {
	t.Parallel()
	err := &AttemptsError{Attempts: []error{errors.New("timeout")}, Refused: &budgetRefusal{service: "payment"}}
	wrapped := fmt.Errorf("call: %w", err)
	if !errors.Is(wrapped, ErrRetryBudgetExhausted) {
		t.Errorf("errors.Is(%v, ErrRetryBudgetExhausted) = false", wrapped)
	}
	if got, want := err.Error(), "attempt 1: timeout; no retry: retry budget for payment exhausted"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
