package rpc

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the retry budget kept per service.
const (
	// DefaultRetryRatio is the share of a service's calls that may be
	// retried: 0.2 lets 2 retries in for every 10 calls.
	DefaultRetryRatio = 0.2
	// DefaultRetryFloor is how many retries per second a service gets
	// whatever its traffic, so a service with few calls can still retry.
	DefaultRetryFloor = 10.0
)

// ErrRetryBudgetExhausted is matched (errors.Is) by the error of a call that
// was not retried because the service's retry budget was spent.
var ErrRetryBudgetExhausted = errors.New("retry budget exhausted")

// budgetTick is the period over which the floor is settled against what the
// calls earned.
const budgetTick = int64(time.Second)

// milli is one token: balances are kept in thousandths of a retry so that a
// call's share (0.2) adds up exactly.
const milli = 1000

// retryBudgets holds one retry budget per service, in the manner of
// Finagle's RetryBudget and gRPC's retry throttling: every call deposits
// ratio of a token, every retry withdraws a whole one, so that under a
// service's total failure its attempts are at most 1+ratio times its calls
// and a dead booth is not hammered by retries.
//
// The floor is a minimum, not an addition. Each second (tick) a budget
// whose calls earn less than the floor is topped up to the floor at the
// start of the tick, and the tick's deposits first repay that advance, so
// the tick grants max(floor, ratio*calls); a fresh budget starts so. A
// budget whose calls earn more than the floor gets nothing but its
// deposits, so under sustained load the share holds exactly, whatever the
// run's length. Unspent tokens carry over one second's worth at most (the
// floor plus the last second's deposits), so a booth that dies after a busy
// healthy spell is not hammered with what the spell saved.
//
// A call costs two atomic additions; only a retry reads the clock and may
// settle the ticks that are over. No lock is taken after a service's first
// call.
type retryBudgets struct {
	share int64 // milli-tokens a call deposits
	floor int64 // milli-tokens granted per tick at least
	epoch time.Time
	m     sync.Map // service -> *retryBudget
}

func newRetryBudgets(ratio, floorPerSecond float64) *retryBudgets {
	return &retryBudgets{
		share: int64(ratio*milli + 0.5),
		floor: int64(floorPerSecond*milli + 0.5),
		epoch: time.Now(),
	}
}

// get returns service's budget, making it on its first call.
func (bs *retryBudgets) get(service string) *retryBudget {
	if b, ok := bs.m.Load(service); ok {
		return b.(*retryBudget)
	}
	got, _ := bs.m.LoadOrStore(service, newRetryBudget(bs.share, bs.floor, bs.clock))
	return got.(*retryBudget)
}

// clock returns monotonic nanoseconds since the budgets were made.
func (bs *retryBudgets) clock() int64 { return int64(time.Since(bs.epoch)) }

// retryBudget is the token bucket of one service.
type retryBudget struct {
	share, floor int64
	clock        func() int64

	balance   atomic.Int64 // milli-tokens retries may take
	advance   atomic.Int64 // first tick's floor advance not yet repaid by deposits
	calls     atomic.Int64 // calls since tickStart
	tickStart atomic.Int64 // clock() at the start of the current tick
}

// newRetryBudget returns a fresh budget: the first tick's floor is
// advanced, to be repaid by the first deposits.
func newRetryBudget(share, floor int64, clock func() int64) *retryBudget {
	b := &retryBudget{share: share, floor: floor, clock: clock}
	b.tickStart.Store(clock())
	b.balance.Store(floor)
	b.advance.Store(floor)
	return b
}

// deposit credits one call's share, repaying the first tick's advance first.
func (b *retryBudget) deposit() {
	b.calls.Add(1)
	if b.advance.Load() > 0 {
		left := b.advance.Add(-b.share)
		if left >= 0 {
			return
		}
		b.balance.Add(min(-left, b.share))
		return
	}
	b.balance.Add(b.share)
}

// withdraw takes one token for a retry; it reports false when there is none.
func (b *retryBudget) withdraw() bool {
	b.settle()
	for {
		v := b.balance.Load()
		if v < milli {
			return false
		}
		if b.balance.CompareAndSwap(v, v-milli) {
			return true
		}
	}
}

// settle closes the ticks that are over: it trims the carried balance to
// one second's worth and, when those ticks' calls earned less than the
// floor, tops the balance up to the floor as the new tick's advance.
// Whoever moves tickStart settles; the others go on with the balance as is.
func (b *retryBudget) settle() {
	start := b.tickStart.Load()
	n := (b.clock() - start) / budgetTick
	if n < 1 || !b.tickStart.CompareAndSwap(start, start+n*budgetTick) {
		return
	}
	perTick := b.calls.Swap(0) * b.share / n
	b.advance.Store(0)
	limit := b.floor + perTick
	for {
		v := b.balance.Load()
		nv, grant := min(v, limit), int64(0)
		if perTick < b.floor && nv < b.floor {
			grant, nv = b.floor-nv, b.floor
		}
		if nv == v || b.balance.CompareAndSwap(v, nv) {
			b.advance.Store(grant)
			return
		}
	}
}

// budgetRefusal is the note kept in an AttemptsError when the budget
// refused a retry.
type budgetRefusal struct{ service string }

func (e *budgetRefusal) Error() string { return "retry budget for " + e.service + " exhausted" }

func (e *budgetRefusal) Unwrap() error { return ErrRetryBudgetExhausted }
