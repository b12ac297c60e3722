package metrics_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Both latency histograms of a real call have the documented buckets, 25 µs
// to 10 s, and count the call in them; a known breaker is exported closed
// before any change, and its change is then seen.
func TestLatencyBucketsAndKnownBreakers(t *testing.T) {
	t.Parallel()
	want := []float64{25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3,
		0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	if !slices.Equal(metrics.LatencyBuckets, want) {
		t.Fatalf("LatencyBuckets = %v, want %v", metrics.LatencyBuckets, want)
	}
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	m.KnownBreakers("fee-calc", "payment")
	srv := natstest.Start(t)
	b := startBooth(t, natstest.Connect(t, srv), m, "fee-calc")
	mustHandle(t, rpc.Handle(b, "/calculate", func(ctx context.Context, req *fee) (*fee, error) {
		return &fee{Amount: 125}, nil
	}))
	c, err := rpc.NewClient(natstest.Connect(t, srv), rpc.WithCallMiddleware(m.ClientMiddleware()))
	if err != nil {
		t.Fatal(err)
	}
	s := newScraper(t, m)
	if err := s.families().expect("hms_svc_breaker_state", map[string]string{"service": "payment"}, 0); err != nil {
		t.Errorf("before any change: %v", err)
	}
	if err := c.Call(t.Context(), "fee-calc", "/calculate", fee{}, nil); err != nil {
		t.Fatal(err)
	}
	m.BreakerStateChange("payment", gobreaker.StateClosed, gobreaker.StateOpen)
	m.KnownBreakers("payment") // a later client does not reset it

	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		return s.families().expect("hms_svc_booth_request_duration_seconds", map[string]string{"service": "fee-calc"}, 1)
	})
	fams := s.families()
	for _, name := range []string{"hms_svc_client_request_duration_seconds", "hms_svc_booth_request_duration_seconds"} {
		h := fams[name].GetMetric()[0].GetHistogram()
		var bounds []float64
		for _, bk := range h.GetBucket() {
			if !math.IsInf(bk.GetUpperBound(), 1) { // the text format lists +Inf too
				bounds = append(bounds, bk.GetUpperBound())
			}
		}
		if !slices.Equal(bounds, want) || h.GetSampleCount() != 1 || h.GetBucket()[len(want)-1].GetCumulativeCount() != 1 {
			t.Errorf("%s: buckets %v with %d samples (%d under 10 s), want %v and 1", name, bounds, h.GetSampleCount(),
				h.GetBucket()[len(want)-1].GetCumulativeCount(), want)
		}
	}
	for svc, v := range map[string]float64{"fee-calc": 0, "payment": 2} {
		if err := fams.expect("hms_svc_breaker_state", map[string]string{"service": svc}, v); err != nil {
			t.Error(err)
		}
	}
}
