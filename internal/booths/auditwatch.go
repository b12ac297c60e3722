package booths

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hms-svc/hms-svc/internal/metrics"
)

// chainWatch reports what audit-log finds wrong with the chain where it
// appends: each problem once per instance, counted in
// hms_svc_audit_chain_problems_total{kind} and logged as an error.
type chainWatch struct {
	problems *prometheus.CounterVec
	log      *slog.Logger

	mu   sync.Mutex
	seen map[string]bool // problems already reported, by kind and place
}

// maxSeen bounds the problems a chainWatch remembers; past it, it forgets
// them all (a problem seen again is then counted again).
const maxSeen = 4096

// newChainWatch registers the counter on reg (nil: counted, not served).
// Instances in one process share the counter.
func newChainWatch(reg prometheus.Registerer, log *slog.Logger) (*chainWatch, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Name: "audit_chain_problems_total",
		Help: "Problems audit-log found in the AUDIT hash chain where it appends, by kind: " +
			"foreign (a record it did not write), edited (a record that does not match its hash), " +
			"restart (a new chain started after the first record), gap (records missing, or a broken link).",
	}, []string{"kind"})
	if reg != nil {
		if err := reg.Register(c); err != nil {
			var dup prometheus.AlreadyRegisteredError
			if !errors.As(err, &dup) {
				return nil, fmt.Errorf("audit-log: registering the chain metric: %w", err)
			}
			existing, ok := dup.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, fmt.Errorf("audit-log: %s is registered as another kind of metric", "hms_svc_audit_chain_problems_total")
			}
			c = existing
		}
	}
	for _, k := range ChainKinds() {
		c.WithLabelValues(string(k))
	}
	return &chainWatch{problems: c, log: log, seen: map[string]bool{}}, nil
}

// report counts and logs the problems not reported before; key tells
// problems apart beyond their kind and sequence.
func (w *chainWatch) report(key string, p ChainProblem) {
	id := fmt.Sprintf("%s/%d-%d/%s", p.Kind, p.Seq, p.Last, key)
	w.mu.Lock()
	if w.seen[id] {
		w.mu.Unlock()
		return
	}
	if len(w.seen) >= maxSeen {
		clear(w.seen)
	}
	w.seen[id] = true
	w.mu.Unlock()
	w.problems.WithLabelValues(string(p.Kind)).Inc()
	w.log.Error("audit chain broken where audit-log appends: appending on; run meshctl audit verify",
		"seq", p.Seq, "kind", string(p.Kind), "problem", p.Reason)
}
