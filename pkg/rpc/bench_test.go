package rpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// BenchmarkCallRaw and BenchmarkRawNATS make the same round trip on the same
// kind of server; their ratio is what the mesh costs over a bare NATS
// request to a bare micro endpoint.

var benchBody = []byte(`{"license_type":"professional-engineer"}`)

func BenchmarkCallRaw(b *testing.B) {
	s := natstest.Start(b)
	booth := startBooth(b, s, "fee-calc")
	handleRaw(b, booth, "/calculate", func(_ context.Context, req *rpc.Message) (*rpc.Message, error) {
		return &rpc.Message{Data: req.Data}, nil
	})
	client := newClient(b, s, rpc.WithAttemptTimeout(5*time.Second))
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.CallRaw(ctx, "fee-calc", "/calculate", benchBody); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := client.CallRaw(ctx, "fee-calc", "/calculate", benchBody); err != nil {
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
