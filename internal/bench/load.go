package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hms-svc/hms-svc/internal/wait"
)

// Op is one call under load; an error fails the run.
type Op func(ctx context.Context) error

// Result is what one run measured.
type Result struct {
	// Calls counts the calls completed in the measured window.
	Calls uint64
	// Total counts every call completed, warm-up included.
	Total uint64
	// Elapsed is the measured window.
	Elapsed time.Duration
	// CPU is the CPU time the whole process used in the window (rusage).
	CPU time.Duration
	// Latency holds every measured call's latency.
	Latency *Histogram
	// Allocs is the process's heap allocations per call, when counted.
	Allocs float64
	// Errors counts the calls of the measured window that failed (their
	// latency is recorded too); FirstError is the first failure's message.
	Errors     uint64
	FirstError string
}

// MaxErrorRate is the share of failed calls a run tolerates: on a shared
// machine an attempt may miss its deadline now and then, which is a figure
// to report, not a reason to throw the run away. A run with more fails.
const MaxErrorRate = 0.01

// check fails a run whose calls failed more than MaxErrorRate allows.
func (r Result) check() error {
	if r.Errors == 0 {
		return nil
	}
	if float64(r.Errors) > MaxErrorRate*float64(r.Calls+r.Errors) {
		return fmt.Errorf("bench: %d of %d calls failed, first: %s", r.Errors, r.Calls+r.Errors, r.FirstError)
	}
	return nil
}

// Rate returns the calls per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// CPUPer1000 returns the process's CPU seconds per 1000 calls.
func (r Result) CPUPer1000() float64 {
	if r.Calls == 0 {
		return 0
	}
	return r.CPU.Seconds() * 1000 / float64(r.Calls)
}

// Closed runs op from callers goroutines, each calling again as soon as its
// call returns, for warm then for d, and measures the second period. Each
// latency is timed from the call's start; a failed call's too. More than
// MaxErrorRate failed calls fail the run.
func Closed(ctx context.Context, callers int, warm, d time.Duration, op Op) (Result, error) {
	return closedIndexed(ctx, callers, warm, d, func(ctx context.Context, _ int) error { return op(ctx) })
}

// closedIndexed is Closed with each caller's index passed to op.
func closedIndexed(ctx context.Context, callers int, warm, d time.Duration, op func(context.Context, int) error) (Result, error) {
	if callers < 1 {
		return Result{}, fmt.Errorf("bench: callers must be at least 1, got %d", callers)
	}
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		firstErr  atomic.Pointer[error]
		wg        sync.WaitGroup
	)
	hists := make([]Histogram, callers)
	counts := make([]uint64, callers)
	totals := make([]uint64, callers)
	errs := make([]uint64, callers)
	for i := range callers {
		wg.Go(func() {
			h := &hists[i]
			for !stop.Load() {
				start := time.Now()
				err := op(ctx, i)
				lat := time.Since(start)
				totals[i]++
				if !measuring.Load() {
					continue
				}
				h.Record(lat)
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					errs[i]++
					continue
				}
				counts[i]++
			}
		})
	}
	wait.Sleep(ctx, warm)
	cpu0, t0 := cpuTime(), time.Now()
	measuring.Store(true)
	wait.Sleep(ctx, d)
	measuring.Store(false)
	res := Result{Elapsed: time.Since(t0), CPU: cpuTime() - cpu0, Latency: &Histogram{}}
	stop.Store(true)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for i := range hists {
		res.Latency.Merge(&hists[i])
		res.Calls += counts[i]
		res.Total += totals[i]
		res.Errors += errs[i]
	}
	if e := firstErr.Load(); e != nil {
		res.FirstError = (*e).Error()
	}
	if res.Calls == 0 && res.Errors == 0 {
		return res, fmt.Errorf("bench: no call completed in %v", d)
	}
	return res, res.check()
}

// Open runs op at a fixed rate (calls per second) for d, open loop: calls
// are scheduled at fixed times whatever the earlier ones do, handed to up
// to workers goroutines, and each latency is timed from the call's
// scheduled send, so a call that waited for a worker or for a late
// scheduler counts its wait. Failed calls are timed and counted too; more
// than MaxErrorRate of them fail the run.
func Open(ctx context.Context, rate, workers int, d time.Duration, op Op) (Result, error) {
	if rate < 1 || workers < 1 {
		return Result{}, fmt.Errorf("bench: rate and workers must be at least 1, got %d and %d", rate, workers)
	}
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	sched := make(chan time.Time, n)
	hists := make([]Histogram, workers)
	errs := make([]uint64, workers)
	var (
		wg       sync.WaitGroup
		firstErr atomic.Pointer[error]
	)
	for i := range workers {
		wg.Go(func() {
			for at := range sched {
				err := op(ctx)
				hists[i].Record(time.Since(at))
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					errs[i]++
				}
			}
		})
	}
	cpu0 := cpuTime()
	start := time.Now().Add(time.Millisecond)
	dispatched := make(chan struct{})
	go func() {
		// The runtime's timers wake a sleeping goroutine up to a
		// millisecond late when the process is otherwise idle, which would
		// count as latency of every call; a thread of its own, with a fine
		// timer slack, sleeps in the kernel to within tens of µs.
		defer close(dispatched)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		fineTimerSlack()
		for i := 0; i < n && ctx.Err() == nil; i++ {
			at := start.Add(time.Duration(i) * interval)
			sleepUntil(at)
			sched <- at
		}
		close(sched)
	}()
	<-dispatched
	wg.Wait()
	res := Result{Elapsed: time.Since(start), CPU: cpuTime() - cpu0, Latency: &Histogram{}}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for i := range hists {
		res.Latency.Merge(&hists[i])
		res.Errors += errs[i]
	}
	if e := firstErr.Load(); e != nil {
		res.FirstError = (*e).Error()
	}
	res.Calls = res.Latency.Count() - res.Errors
	res.Total = res.Calls
	return res, res.check()
}
