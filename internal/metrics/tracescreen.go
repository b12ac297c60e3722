package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// TraceScreen adds the counts of a trace reader's Screen to the metrics,
// read at each scrape: hms_svc_trace_events_rejected_total by reason (see
// trace.RejectReason), summed over every Screen added. Adding one twice
// counts it once.
func (m *Metrics) TraceScreen(s *trace.Screen) {
	if s != nil {
		m.screens.add(s)
	}
}

// screenCollector reads the Screens' counters at scrape time.
type screenCollector struct {
	rejected *prometheus.Desc

	mu      sync.Mutex
	screens []*trace.Screen
}

func newScreenCollector() *screenCollector {
	return &screenCollector{
		rejected: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "trace", "events_rejected_total"),
			"Stored trace events a reader withheld, by reason: a server span of a service other than its emitter, "+
				"a client span whose caller is not its emitter, a subject naming no emitter, or (counting messages) a malformed batch.",
			[]string{"reason"}, nil),
	}
}

func (c *screenCollector) add(s *trace.Screen) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, have := range c.screens {
		if have == s {
			return
		}
	}
	c.screens = append(c.screens, s)
}

// Describe implements prometheus.Collector.
func (c *screenCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.rejected }

// Collect implements prometheus.Collector: once a Screen is added, every
// reason, 0 included, so a rate over it exists before the first rejection;
// nothing in a process that reads no trace.
func (c *screenCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	screens := append([]*trace.Screen(nil), c.screens...)
	c.mu.Unlock()
	if len(screens) == 0 {
		return
	}
	for _, reason := range trace.RejectReasons() {
		var n uint64
		for _, s := range screens {
			n += s.Rejected(reason)
		}
		ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(n), string(reason))
	}
}
