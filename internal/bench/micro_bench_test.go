package bench

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sony/gobreaker/v2"

	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Micro-benchmarks of the hot pieces of a call that have none where they
// live: the per-attempt header work of the client, the header block a
// booth's connection decodes for every request, and the circuit breaker.
// Subject building (pkg/subjects), token checks (pkg/rpc) and trace
// enqueueing (pkg/trace) have theirs in their packages.

// benchCreds makes credentials once per benchmark.
func benchCreds(b *testing.B) *Creds {
	b.Helper()
	c, err := NewCreds(filepath.Join(b.TempDir(), "mesh"), testDemoMatrix)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkAttemptHeaders is the client's header work per attempt with
// everything on: the traceparent and the cached call token, on a fresh
// copy of the call's headers, up to the transport.
func BenchmarkAttemptHeaders(b *testing.B) {
	c := benchCreds(b)
	signer, err := mesh.Credentials{Dir: c.Dir}.Signer("gateway", c.Matrix)
	if err != nil {
		b.Fatal(err)
	}
	nop := func(_ context.Context, req *rpc.Message) (*rpc.Message, error) { return req, nil }
	ep := rpc.Chain(trace.ClientMiddleware(nil, "gateway"), signer.Middleware())(nop)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h := nats.Header{rpc.HeaderRequestID: {"882ce588-95ea-4dea-a2d8-fe4a995c0619"}, rpc.HeaderTimeout: {"299"}}
		if _, err := ep(ctx, &rpc.Message{Service: "fee-calc", Path: "/calculate", Header: h, Data: FeeBody}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMeshHeaders is what nats.go spends decoding a mesh
// call's header block when the request reaches the booth.
func BenchmarkDecodeMeshHeaders(b *testing.B) {
	tok := make([]byte, 430) // the size of a gateway's call token
	for i := range tok {
		tok[i] = 'a' + byte(i%26)
	}
	block := []byte("NATS/1.0\r\nAuthorization: Bearer " + string(tok) + "\r\n" +
		"Svc-Request-Id: 882ce588-95ea-4dea-a2d8-fe4a995c0619\r\nSvc-Caller: gateway\r\nSvc-Timeout-Ms: 299\r\n" +
		"traceparent: 00-882ce58895ea4deaa2d8fe4a995c0619-8b8e2331f56c707c-01\r\n\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(block)))
	for b.Loop() {
		h, err := nats.DecodeHeadersMsg(block)
		if err != nil || len(h) != 5 {
			b.Fatalf("decoded %d headers (%v), want 5", len(h), err)
		}
	}
}

// BenchmarkBreaker is a closed circuit breaker's cost per successful call,
// as the client keeps one per service.
func BenchmarkBreaker(b *testing.B) {
	cb := gobreaker.NewCircuitBreaker[*rpc.Message](gobreaker.Settings{
		Name: "fee-calc", MaxRequests: 1, Timeout: time.Minute,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
		IsExcluded:  func(err error) bool { return errors.Is(err, context.Canceled) },
	})
	res := &rpc.Message{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cb.Execute(func() (*rpc.Message, error) { return res, nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistogramRecord is the load generators' cost per sample.
func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	d := 87 * time.Microsecond
	for b.Loop() {
		h.Record(d)
		d += 13
	}
}
