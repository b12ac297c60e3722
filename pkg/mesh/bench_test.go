package mesh_test

import (
	"context"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// BenchmarkCallSecure is a call with the whole stack, as pkg/mesh
// assembles it: mTLS and NKeys on both connections, the caller's token
// signed and the booth's check (both cached), tracing on both sides
// publishing to SVC_TRACE, metrics, the breaker, retries and the attempt
// deadline. pkg/rpc's BenchmarkRawNATS is the same round trip without the
// mesh, on a bare server.
func BenchmarkCallSecure(b *testing.B) {
	s := secureServer(b)
	fee := join(b, s, "fee-calc")
	booth, err := fee.NewBooth(rpc.BoothConfig{Version: "1.0.0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := booth.HandleRaw("/calculate", func(_ context.Context, req *rpc.Message) (*rpc.Message, error) {
		return &rpc.Message{Data: req.Data}, nil
	}, rpc.Inline()); err != nil {
		b.Fatal(err)
	}
	client, err := join(b, s, "gateway").NewClient(rpc.WithAttemptTimeout(5 * time.Second))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"license_type":"professional-engineer"}`)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.CallRaw(ctx, "fee-calc", "/calculate", body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := client.CallRaw(ctx, "fee-calc", "/calculate", body); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
