package metrics

import (
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerStateChange records a circuit breaker's change of state: use it
// as rpc.BreakerSettings.OnStateChange. It counts
// hms_svc_breaker_state_changes_total by service, from and to, and sets
// hms_svc_breaker_state of the service (0 closed, 1 half-open, 2 open). A
// service's gauge appears at its breaker's first change unless
// KnownBreakers exported it before. Services are not capped: a breaker
// changes state only on failures of running instances (calls that find none
// are not counted by the rpc breaker).
func (m *Metrics) BreakerStateChange(service string, from, to gobreaker.State) {
	m.breakerChanges.WithLabelValues(service, from.String(), to.String()).Inc()
	m.breakerState.WithLabelValues(service).Set(breakerValue(to))
}

// BreakerOpened records a trip of service's circuit breaker and how long
// it stays open: use it as rpc.BreakerSettings.OnOpen. It counts
// hms_svc_breaker_trips_total and sets hms_svc_breaker_open_seconds.
func (m *Metrics) BreakerOpened(service string, window time.Duration) {
	m.breakerTrips.WithLabelValues(service).Inc()
	m.breakerOpen.WithLabelValues(service).Set(window.Seconds())
}

// KnownBreakers exports hms_svc_breaker_state 0 (closed) for each of
// services whose gauge is not there yet: call it when a client is made,
// with every service it may call (rpc.WithKnownServices), so that a
// dashboard or an alert sees each breaker from the start rather than at its
// first change. A gauge already there keeps its value.
func (m *Metrics) KnownBreakers(services ...string) {
	for _, s := range services {
		m.breakerState.WithLabelValues(s) // made at 0 if new
	}
}

// breakerValue is the gauge value of a state.
func breakerValue(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}
