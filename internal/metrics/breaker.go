package metrics

import (
	"github.com/sony/gobreaker/v2"
)

// BreakerStateChange records a circuit breaker's change of state: use it
// as rpc.BreakerSettings.OnStateChange. It counts
// hms_svc_breaker_state_changes_total by service, from and to, and sets
// hms_svc_breaker_state of the service (0 closed, 1 half-open, 2 open). A
// service's gauge appears at its breaker's first change. Services are not
// capped: a breaker changes state only on failures of running instances
// (calls that find none are not counted by the rpc breaker).
func (m *Metrics) BreakerStateChange(service string, from, to gobreaker.State) {
	m.breakerChanges.WithLabelValues(service, from.String(), to.String()).Inc()
	m.breakerState.WithLabelValues(service).Set(breakerValue(to))
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
