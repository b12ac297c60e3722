package metrics

import (
	"fmt"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// TraceStatser is what TracePublisher reads: *trace.Publisher.
type TraceStatser interface {
	Stats() trace.Stats
}

// TracePublisher adds a trace publisher to the metrics, read at each
// scrape: hms_svc_trace_events_published_total,
// hms_svc_trace_events_dropped_total by reason (full, failed, invalid) and
// hms_svc_trace_events_pending, labelled emitter (the identity the
// publisher publishes for: a booth-runner has one per booth). An emitter
// may be added once.
func (m *Metrics) TracePublisher(emitter string, p TraceStatser) error {
	return m.traces.add(emitter, p)
}

// traceCollector reads the trace publishers' counters at scrape time.
type traceCollector struct {
	published, dropped, pending *prometheus.Desc

	mu   sync.Mutex
	pubs map[string]TraceStatser
}

func newTraceCollector() *traceCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "trace", n) }
	return &traceCollector{
		published: prometheus.NewDesc(name("events_published_total"),
			"Trace events JetStream acknowledged, by emitter.", []string{"emitter"}, nil),
		dropped: prometheus.NewDesc(name("events_dropped_total"),
			"Trace events that will never be published, by emitter and reason: full (buffer full or publisher closed), failed (every publish try failed), invalid (malformed event).",
			[]string{"emitter", "reason"}, nil),
		pending: prometheus.NewDesc(name("events_pending"),
			"Trace events held by the publisher: buffered, batching or awaiting an acknowledgement.",
			[]string{"emitter"}, nil),
		pubs: make(map[string]TraceStatser),
	}
}

func (c *traceCollector) add(emitter string, p TraceStatser) error {
	if emitter == "" || p == nil {
		return fmt.Errorf("metrics: trace publisher needs an emitter name and a publisher, got %q and %v", emitter, p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.pubs[emitter]; dup {
		return fmt.Errorf("metrics: trace publisher of %q is already added", emitter)
	}
	c.pubs[emitter] = p
	return nil
}

// Describe implements prometheus.Collector.
func (c *traceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.published
	ch <- c.dropped
	ch <- c.pending
}

// Collect implements prometheus.Collector.
func (c *traceCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	names := make([]string, 0, len(c.pubs))
	for n := range c.pubs {
		names = append(names, n)
	}
	pubs := make([]TraceStatser, len(names))
	sort.Strings(names)
	for i, n := range names {
		pubs[i] = c.pubs[n]
	}
	c.mu.Unlock()
	for i, p := range pubs {
		s, n := p.Stats(), names[i]
		ch <- prometheus.MustNewConstMetric(c.published, prometheus.CounterValue, float64(s.Published), n)
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.DroppedFull), n, "full")
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.DroppedFailed), n, "failed")
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.DroppedInvalid), n, "invalid")
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending), n)
	}
}
