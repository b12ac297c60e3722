package rpc_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// BenchmarkCallRaw and BenchmarkRawNATS make the same round trip on the same
// kind of server; their ratio is what the mesh costs over a bare NATS
// request to a bare micro endpoint.

var benchBody = []byte(`{"license_type":"professional-engineer"}`)

// benchCallers is the parallel benchmarks' callers per GOMAXPROCS: 16
// concurrent callers on two cores, one of the loads make bench measures.
const benchCallers = 8

func BenchmarkCallRaw(b *testing.B) {
	s := natstest.Start(b)
	booth := startBooth(b, s, "fee-calc")
	handleRaw(b, booth, "/calculate", func(_ context.Context, req *rpc.Message) (*rpc.Message, error) {
		return &rpc.Message{Data: req.Data}, nil
	})
	benchCalls(b, newClient(b, s, rpc.WithAttemptTimeout(5*time.Second)), "fee-calc", "/calculate")
}

// BenchmarkDedupCall is BenchmarkCallRaw to a NotIdempotent endpoint: each
// call (a fresh request id) creates its pending entry in the dedup bucket
// and stores its answer there before it is sent. The stores sync every
// write to disk, as embednats does by default.
func BenchmarkDedupCall(b *testing.B) {
	for _, relaxed := range []bool{false, true} {
		b.Run(fmt.Sprintf("relaxed-sync=%v", relaxed), func(b *testing.B) {
			s := natstest.StartWith(b, embednats.Config{Port: -1, StoreDir: b.TempDir(), RelaxedSync: relaxed})
			booth := startDedupBooth(b, s, "payment")
			handleOpts(b, booth, "/charge", func(_ context.Context, req *rpc.Message) (*rpc.Message, error) {
				return &rpc.Message{Data: req.Data}, nil
			}, rpc.NotIdempotent())
			benchCalls(b, newClient(b, s, rpc.WithAttemptTimeout(5*time.Second)), "payment", "/charge")
		})
	}
}

// benchCalls measures calls to service path one at a time (reporting the
// median latency too) and from parallel goroutines.
func benchCalls(b *testing.B, client *rpc.Client, service, path string) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		var took []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := client.CallRaw(ctx, service, path, benchBody); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(benchCallers)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := client.CallRaw(ctx, service, path, benchBody); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkRawNATS(b *testing.B) {
	s := natstest.Start(b)
	svc, err := micro.AddService(natstest.Connect(b, s), micro.Config{
		Name: "fee-calc", Version: "1.0.0", QueueGroup: "fee-calc",
		Endpoint: &micro.EndpointConfig{
			Subject: "svc.fee-calc.calculate",
			Handler: micro.HandlerFunc(func(r micro.Request) { _ = r.Respond(r.Data()) }),
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Stop() })
	nc := natstest.Connect(b, s)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := nc.Request("svc.fee-calc.calculate", benchBody, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(benchCallers)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := nc.Request("svc.fee-calc.calculate", benchBody, 5*time.Second); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
