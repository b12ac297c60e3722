package trace

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

type feeReq struct {
	LicenseType string `json:"license_type"`
}

type feeRes struct {
	Amount int `json:"amount"`
}

func startFeeBooth(t testing.TB, nc *nats.Conn, name string, mw ...rpc.Middleware) {
	t.Helper()
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: name}, rpc.WithBoothMiddleware(mw...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	if err := rpc.Handle(b, "/calculate", func(ctx context.Context, req *feeReq) (*feeRes, error) {
		return &feeRes{Amount: 125}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// With JetStream stalled, a traced call is as fast as an untraced one: the
// publishers drop (and count) what they cannot hold instead of waiting.
func TestStalledJetStreamLeavesCallLatencyAlone(t *testing.T) {
	srv := natstest.Start(t) // no stream; a subscriber swallows svc.trace
	sink := natstest.Connect(t, srv)
	if _, err := sink.Subscribe("svc.trace.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	small := []PublisherOption{WithBuffer(8), WithBatching(10, time.Millisecond), WithMaxInFlight(1), WithAckTimeout(time.Minute)}
	ncBooth, ncCaller := natstest.Connect(t, srv), natstest.Connect(t, srv)
	pubBooth := newPublisher(t, ncBooth, "fee-calc", small...)
	pubCaller := newPublisher(t, ncCaller, "gateway", small...)
	startFeeBooth(t, ncBooth, "fee-calc", ServerMiddleware(pubBooth, "fee-calc-1"))
	startFeeBooth(t, ncBooth, "fee-plain")
	traced, _ := rpc.NewClient(ncCaller, rpc.WithAttemptMiddleware(ClientMiddleware(pubCaller, "gateway")))
	plain, _ := rpc.NewClient(ncCaller)

	const calls = 300
	ctx := context.Background()
	var on, off []time.Duration
	var res feeRes
	for range calls { // interleaved, so that noise hits both alike
		t0 := time.Now()
		if err := traced.Call(ctx, "fee-calc", "/calculate", feeReq{"professional-engineer"}, &res); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if err := plain.Call(ctx, "fee-plain", "/calculate", feeReq{"professional-engineer"}, &res); err != nil {
			t.Fatal(err)
		}
		on, off = append(on, t1.Sub(t0)), append(off, time.Since(t1))
	}
	for _, p := range []*Publisher{pubBooth, pubCaller} {
		if p.Pending() > int64(p.Capacity()) || p.Dropped() < calls-uint64(p.Capacity()) {
			t.Errorf("%s: pending %d dropped %d, want at most %d held", p.Subject(), p.Pending(), p.Dropped(), p.Capacity())
		}
	}
	slices.Sort(on)
	slices.Sort(off)
	medOn, medOff := on[calls/2], off[calls/2]
	t.Logf("median call latency: tracing on (JetStream stalled) %v, tracing off %v; p90 %v vs %v", medOn, medOff, on[calls*9/10], off[calls*9/10])
	if medOn > 2*medOff+500*time.Microsecond {
		t.Errorf("tracing with JetStream stalled slows calls: median %v against %v untraced", medOn, medOff)
	}
	for _, p := range []*Publisher{pubBooth, pubCaller} {
		// Still stalled: Close gives up at once and counts the rest.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_ = p.Close(ctx)
		cancel()
		natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
			if p.Dropped() != calls || p.Pending() != 0 || p.Published() != 0 {
				return fmt.Errorf("%s: dropped %d pending %d published %d, want all %d dropped", p.Subject(), p.Dropped(), p.Pending(), p.Published(), calls)
			}
			return nil
		})
	}
}
