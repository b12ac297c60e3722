package hardening

import (
	"runtime"
	"slices"
	"sync"
	"time"
)

// Peaks are the highest goroutine count and heap in use a Sampler saw.
type Peaks struct {
	Goroutines int
	HeapInuse  uint64 // bytes
	// Inside is the most goroutines seen at once with one of the Sampler's
	// functions on their stack (e.g. the HTTP handlers running).
	Inside  int
	Samples int
}

// HeapMiB returns HeapInuse in MiB.
func (p Peaks) HeapMiB() float64 { return float64(p.HeapInuse) / (1 << 20) }

// Sampler samples the process's goroutine count and heap in use at a fixed
// interval until stopped. Both are process-wide: a test that reads them
// must not run in parallel with others.
type Sampler struct {
	inside []string
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	p      Peaks
}

// Baseline returns the process's goroutine count and heap in use now, after
// a garbage collection, so that later peaks can be compared with it.
func Baseline() Peaks {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Peaks{Goroutines: runtime.NumGoroutine(), HeapInuse: ms.HeapInuse, Samples: 1}
}

// StartSampler samples every interval until Stop. When inside names
// functions (as runtime.Func.Name spells them), it also counts the
// goroutines that have one of them among the innermost 32 frames of their
// stack, which takes a goroutine profile per sample.
func StartSampler(interval time.Duration, inside ...string) *Sampler {
	s := &Sampler{inside: inside, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run(interval)
	return s
}

func (s *Sampler) run(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.sample()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

func (s *Sampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g := runtime.NumGoroutine()
	in := 0
	if len(s.inside) > 0 {
		in = countInside(s.inside)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p.Samples++
	s.p.Goroutines = max(s.p.Goroutines, g)
	s.p.Inside = max(s.p.Inside, in)
	s.p.HeapInuse = max(s.p.HeapInuse, ms.HeapInuse)
}

// Peaks returns the peaks seen so far.
func (s *Sampler) Peaks() Peaks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

// Stop ends the sampling, takes a last sample and returns the peaks.
func (s *Sampler) Stop() Peaks {
	close(s.stop)
	<-s.done
	s.sample()
	return s.Peaks()
}

// countInside counts the goroutines with one of names on their stack.
func countInside(names []string) int {
	var recs []runtime.StackRecord
	for {
		recs = make([]runtime.StackRecord, runtime.NumGoroutine()+64)
		n, ok := runtime.GoroutineProfile(recs)
		if ok {
			recs = recs[:n]
			break
		}
	}
	count := 0
	for _, r := range recs {
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			if slices.Contains(names, f.Function) {
				count++
				break
			}
			if !more {
				break
			}
		}
	}
	return count
}
