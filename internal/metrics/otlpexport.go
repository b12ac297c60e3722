package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hms-svc/hms-svc/internal/otlp"
)

// ExportStatser is what NewExportCollector reads: *otlp.Exporter.
type ExportStatser interface {
	Stats() otlp.Stats
}

// NewExportCollector returns the metrics of an OTLP exporter, read at each
// scrape: hms_svc_otlp_spans_exported_total (spans the endpoint took),
// hms_svc_otlp_spans_failed_total by reason (failed: dropped after every
// try found the endpoint unreachable or busy; rejected: refused by the
// endpoint) and hms_svc_otlp_spans_pending (queued or being sent). Register
// it on the process's registry.
func NewExportCollector(e ExportStatser) prometheus.Collector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "otlp", n) }
	return &exportCollector{
		e: e,
		exported: prometheus.NewDesc(name("spans_exported_total"),
			"Trace spans the OTLP endpoint accepted.", nil, nil),
		failed: prometheus.NewDesc(name("spans_failed_total"),
			"Trace spans never exported, by reason: failed (the endpoint was unreachable or busy through every retry), rejected (the endpoint refused them).",
			[]string{"reason"}, nil),
		pending: prometheus.NewDesc(name("spans_pending"),
			"Trace spans queued for the OTLP endpoint or being sent.", nil, nil),
	}
}

type exportCollector struct {
	e                         ExportStatser
	exported, failed, pending *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *exportCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.exported
	ch <- c.failed
	ch <- c.pending
}

// Collect implements prometheus.Collector.
func (c *exportCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.Stats()
	ch <- prometheus.MustNewConstMetric(c.exported, prometheus.CounterValue, float64(s.Exported))
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(s.Failed), "failed")
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(s.Rejected), "rejected")
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
}
