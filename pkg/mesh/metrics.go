package mesh

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Metrics are one process's Prometheus metrics: every call its clients
// make (hms_svc_client_*), every request its booths serve
// (hms_svc_booth_*), its breakers and its trace publishers, and the Go
// runtime's. Several Meshes of one process (one per identity) share one.
type Metrics struct {
	m *metrics.Metrics
}

// NewMetrics returns the metrics of one process, on a registry of their own.
func NewMetrics() (*Metrics, error) {
	m, err := metrics.New()
	if err != nil {
		return nil, err
	}
	m.Registry().MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Metrics{m: m}, nil
}

// Handler serves the metrics in the Prometheus exposition formats; mount it
// on /metrics.
func (m *Metrics) Handler() http.Handler { return m.m.Handler() }

// Registry returns the registry the metrics are served from, for collectors
// of the program's own.
func (m *Metrics) Registry() *prometheus.Registry { return m.m.Registry() }

// TraceScreen counts, in hms_svc_trace_events_rejected_total{reason}, the
// stored trace events that a reader of the process withheld (see
// trace.Screen).
func (m *Metrics) TraceScreen(s *trace.Screen) { m.m.TraceScreen(s) }
