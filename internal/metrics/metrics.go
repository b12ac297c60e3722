package metrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "hms_svc"

// LatencyBuckets are the upper bounds, in seconds, of every latency
// histogram (hms_svc_client_request_duration_seconds,
// hms_svc_booth_request_duration_seconds): 1, 2.5 and 5 of each decade from
// 25 µs to 10 s, 18 buckets. A booth's own handling takes tens of
// microseconds and a call through NATS a few hundred, so the first buckets
// are that fine and histogram_quantile reads a meaningful p50 and p99 of
// either; past 10 s (the longest deadline the mesh expects) everything is
// +Inf.
var LatencyBuckets = []float64{
	0.000025, 0.00005, 0.0001, 0.00025, 0.0005, // 25 µs .. 500 µs
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, // 1 ms .. 50 ms
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, // 100 ms .. 10 s
}

// Metrics holds one process's metrics and the registry they are served
// from. It is safe for concurrent use.
type Metrics struct {
	reg    *prometheus.Registry
	routes *routes

	clientRequests *prometheus.CounterVec
	clientDuration *prometheus.HistogramVec
	clientInFlight *prometheus.GaugeVec
	attempts       *prometheus.CounterVec
	retries        *prometheus.CounterVec

	boothRequests *prometheus.CounterVec
	boothDuration *prometheus.HistogramVec
	boothInFlight *prometheus.GaugeVec

	breakerChanges *prometheus.CounterVec
	breakerState   *prometheus.GaugeVec
	breakerTrips   *prometheus.CounterVec
	breakerOpen    *prometheus.GaugeVec

	revokedCalls *prometheus.CounterVec

	traces  *traceCollector
	screens *screenCollector
}

// New returns the metrics of one process, registered on a registry of
// their own.
func New(opts ...Option) (*Metrics, error) {
	o := options{maxRoutes: DefaultMaxRoutes}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("metrics: option %d is nil", i)
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	m := &Metrics{reg: prometheus.NewRegistry(), routes: newRoutes(o.maxRoutes), traces: newTraceCollector(),
		screens: newScreenCollector()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(g)
		return g
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: name, Help: help, Buckets: LatencyBuckets,
		}, labels)
		m.reg.MustRegister(h)
		return h
	}

	m.clientRequests = counter("client_requests_total",
		"Logical calls made to booths (all attempts of one call count once), by service, path and result code.",
		"service", "path", "code")
	m.clientDuration = histogram("client_request_duration_seconds",
		"Time from the start of a logical call to its result, retries and backoff included.",
		"service", "path")
	m.clientInFlight = gauge("client_requests_in_flight",
		"Logical calls made and not yet answered, by service.", "service")
	m.attempts = counter("client_attempts_total",
		"Attempts sent to booths (each retry is one more), by service, path and result code.",
		"service", "path", "code")
	m.retries = counter("client_retries_total",
		"Attempts after the first of a logical call, by service and path.", "service", "path")

	m.boothRequests = counter("booth_requests_total",
		"Requests a booth handled, by service, path and the code it answered.", "service", "path", "code")
	m.boothDuration = histogram("booth_request_duration_seconds",
		"Time a booth spent handling a request.", "service", "path")
	m.boothInFlight = gauge("booth_requests_in_flight",
		"Requests a booth is handling now, by service.", "service")

	m.breakerChanges = counter("breaker_state_changes_total",
		"Circuit breaker state changes, by service and the states left and entered (closed, half-open, open).",
		"service", "from", "to")
	m.breakerState = gauge("breaker_state",
		"Current circuit breaker state by service: 0 closed, 1 half-open, 2 open.", "service")
	m.breakerTrips = counter("breaker_trips_total",
		"Times a circuit breaker opened, by service.", "service")
	m.breakerOpen = gauge("breaker_open_seconds",
		"The open window of a service's latest circuit breaker trip, in seconds.", "service")

	m.revokedCalls = counter("revoked_calls_total",
		"Calls a booth refused because the caller, or the identity calling for it, is revoked, by that identity.",
		"identity")

	m.reg.MustRegister(m.traces, m.screens)
	return m, nil
}

// RevokedCall counts, in hms_svc_revoked_calls_total{identity}, a call a
// booth refused because identity is revoked.
func (m *Metrics) RevokedCall(identity string) { m.revokedCalls.WithLabelValues(identity).Inc() }

// Registry returns the registry the metrics are served from, for a process
// that adds collectors of its own (such as the Go runtime's).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats; mount it
// on /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
