package bridge_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// seen records what a raw booth handler received.
type seen struct {
	mu     sync.Mutex
	data   []byte
	header nats.Header
}

func (s *seen) get() ([]byte, nats.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data, s.header
}

// rawBooth serves fee-calc /calculate, recording the request and replying
// with reply as it is.
func rawBooth(t *testing.T, m *fixture, reply string) (*seen, *rpc.Booth) {
	t.Helper()
	s := &seen{}
	b := m.startBooth(t, "fee-calc", func(b *rpc.Booth) error {
		return b.HandleRaw("/calculate", func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			s.mu.Lock()
			s.data, s.header = append([]byte(nil), req.Data...), req.Header
			s.mu.Unlock()
			return &rpc.Message{Data: []byte(reply)}, nil
		})
	})
	return s, b
}

func TestCallPassesBodiesThroughUnchanged(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	const reply = "{ \"currency\" :\"USD\",\n\t\"amount\":125 , \"license_type\":\"professional-engineer\"}"
	got, _ := rawBooth(t, m, reply)
	const sent = "  {\"z\" : 1,\"license_type\":\"professional-engineer\" ,\"a\":[ true ,null, 1e2, \"\\u00e9\"]}\n"
	const key = "5B0F3C52-8F0B-4C3E-9A55-2B8F6E1D0A11"
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

	res := m.post(t, "/v1/call/fee-calc/calculate", sent,
		"Idempotency-Key: "+key, "traceparent: "+tp, "tracestate: vendor=x", "Svc-Timeout-Ms: 2000")

	if res.status != 200 || res.proto != 2 {
		t.Fatalf("status %d over HTTP/%d, want 200 over HTTP/2 (body %s)", res.status, res.proto, res.body)
	}
	if string(res.body) != reply {
		t.Errorf("reply body\n got %q\nwant %q", res.body, reply)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	data, hdr := got.get()
	if string(data) != sent {
		t.Errorf("booth received\n got %q\nwant %q", data, sent)
	}
	wantID := strings.ToLower(key)
	if id := hdr.Get(rpc.HeaderRequestID); id != wantID {
		t.Errorf("booth saw request id %q, want %q", id, wantID)
	}
	if id := res.header.Get(rpc.HeaderRequestID); id != wantID {
		t.Errorf("response request id %q, want %q", id, wantID)
	}
	// The booth's parent is the bridge's attempt, in the caller's trace.
	v := hdr.Get(rpc.HeaderTraceparent)
	if sc, err := trace.ParseTraceparent(v); err != nil || sc.TraceID.String() != tp[3:35] || sc.SpanID.String() == tp[36:52] {
		t.Errorf("booth saw traceparent %q, want a child span of %q", v, tp)
	}
	if id := res.header.Get(bridge.HeaderTraceID); id != tp[3:35] {
		t.Errorf("response %s = %q, want the caller's trace %s", bridge.HeaderTraceID, id, tp[3:35])
	}
	if v := hdr.Get(rpc.HeaderTracestate); v != "vendor=x" {
		t.Errorf("booth saw tracestate %q, want vendor=x", v)
	}
	if v := hdr.Get(rpc.HeaderCaller); v != "bridge" {
		t.Errorf("booth saw caller %q, want bridge", v)
	}
	ms, err := strconv.Atoi(hdr.Get(rpc.HeaderTimeout))
	if err != nil || ms <= 0 || ms > 2000 {
		t.Errorf("booth saw budget %q ms, want 1..2000", hdr.Get(rpc.HeaderTimeout))
	}
}

func TestCallMakesARequestIDWhenNoneIsSent(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	got, _ := rawBooth(t, m, `{}`)
	res := m.post(t, "/v1/call/fee-calc/calculate", `{}`, "traceparent: 00-zz-bad")
	if res.status != 200 {
		t.Fatalf("status %d, want 200 (body %s)", res.status, res.body)
	}
	id := res.header.Get(rpc.HeaderRequestID)
	if uuid.Validate(id) != nil {
		t.Fatalf("response request id %q is not a UUID", id)
	}
	_, hdr := got.get()
	if hdr.Get(rpc.HeaderRequestID) != id {
		t.Errorf("booth saw request id %q, response says %q", hdr.Get(rpc.HeaderRequestID), id)
	}
	// The malformed traceparent is dropped: a new trace starts.
	v := hdr.Get(rpc.HeaderTraceparent)
	sc, err := trace.ParseTraceparent(v)
	if err != nil || sc.TraceID.String() != res.header.Get(bridge.HeaderTraceID) {
		t.Errorf("booth saw traceparent %q (%v), want one of the new trace %q", v, err, res.header.Get(bridge.HeaderTraceID))
	}
}

func TestCallAnswersBoothErrorsWithTheirCode(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	m.startBooth(t, "payment", func(b *rpc.Booth) error {
		return rpc.Handle(b, "/charge", func(ctx context.Context, req *struct{ Amount int }) (*struct{}, error) {
			if req.Amount <= 0 {
				return nil, rpc.Errorf(rpc.CodeBadRequest, "amount must be positive, got %d", req.Amount)
			}
			return nil, rpc.Errorf(rpc.CodeConflict, "request id reused with another body")
		})
	})
	tp := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := []struct {
		body       string
		wantStatus int
		wantMsg    string
	}{
		{`{"amount":0}`, 400, "amount must be positive, got 0"},
		{`{"amount":5}`, 409, "request id reused with another body"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			res := m.post(t, "/v1/call/payment/charge", tt.body, "traceparent: "+tp)
			e := errorOf(t, res)
			if res.status != tt.wantStatus || e.Message != tt.wantMsg {
				t.Errorf("got %d %q, want %d %q", res.status, e.Message, tt.wantStatus, tt.wantMsg)
			}
			if e.TraceID != tp[3:35] {
				t.Errorf("trace_id = %q, want %q", e.TraceID, tp[3:35])
			}
		})
	}
}

func TestCallToAKnownServiceWithNoInstanceIs503(t *testing.T) {
	t.Parallel()
	m := startMesh(t, func(c *bridge.Config) { c.DiscoveryMinInterval = time.Millisecond })
	_, booth := rawBooth(t, m, `{}`)
	if res := m.post(t, "/v1/call/fee-calc/calculate", `{}`); res.status != 200 {
		t.Fatalf("first call: status %d, want 200 (body %s)", res.status, res.body)
	}
	// Stop the only instance, and let discovery see it gone.
	if err := booth.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		res := m.do(t, "GET", "/v1/services/fee-calc", "")
		if res.status != 200 || !strings.Contains(string(res.body), `"instances":[]`) {
			return fmt.Errorf("services/fee-calc: %d %s", res.status, res.body)
		}
		return nil
	})

	res := m.post(t, "/v1/call/fee-calc/calculate", `{}`)
	e := errorOf(t, res)
	if res.status != 503 || !strings.Contains(e.Message, "no running instance of fee-calc") {
		t.Errorf("got %d %q, want 503 naming no running instance", res.status, e.Message)
	}
}

func TestCallSlowerThanItsDeadlineIs504(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	m.startBooth(t, "license-printer", func(b *rpc.Booth) error {
		return rpc.Handle(b, "/generate", func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(5 * time.Second):
				return &struct{}{}, nil
			}
		})
	})
	start := time.Now()
	res := m.post(t, "/v1/call/license-printer/generate", `{}`, "Svc-Timeout-Ms: 250")
	elapsed := time.Since(start)
	e := errorOf(t, res)
	if res.status != 504 {
		t.Errorf("status %d (%q), want 504", res.status, e.Message)
	}
	if !strings.Contains(e.Message, "a retry with Idempotency-Key: ") {
		t.Errorf("message %q does not say how to fetch the outcome", e.Message)
	}
	if elapsed > 2*time.Second {
		t.Errorf("took %v, want about the 250 ms deadline", elapsed)
	}
}
