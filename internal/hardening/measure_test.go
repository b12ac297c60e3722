package hardening_test

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// latencies are the durations of legitimate calls.
type latencies struct {
	mu     sync.Mutex
	d      []time.Duration
	failed []error
}

func (l *latencies) add(d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed = append(l.failed, err)
		return
	}
	l.d = append(l.d, d)
}

// stats returns the count, median, 99th percentile and max.
func (l *latencies) stats() (n int, p50, p99, max time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return len(s), at(0.5), at(0.99), s[len(s)-1]
}

// timeCall makes one legitimate call on c and records its latency.
func (l *latencies) timeCall(c *http.Client, url string) {
	start := time.Now()
	err := goodCallOn(c, url)
	l.add(time.Since(start), err)
}

// callEvery makes legitimate calls on c one after another, pause apart,
// until stop is closed or max calls were made; done is closed after.
func (l *latencies) callEvery(c *http.Client, url string, pause time.Duration, max int, stop <-chan struct{}) (done <-chan struct{}) {
	d := make(chan struct{})
	go func() {
		defer close(d)
		for range max {
			l.timeCall(c, url)
			select {
			case <-stop:
				return
			case <-time.After(pause):
			}
		}
	}()
	return d
}
