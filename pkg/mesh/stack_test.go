package mesh_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

type feeRequest struct {
	LicenseType string `json:"license_type"`
}

type feeReply struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

// The stack is in its one order. A good call is signed, verified, traced on
// both sides in one trace and measured on both sides; the handler sees the
// authenticated caller. A call without a token is measured and traced by
// the booth (outside the check) but never reaches the program's middleware
// or handler (inside it). A call the matrix denies is refused by the
// caller's signer before it is sent, and still measured and traced.
func TestTheStackIsInItsOrder(t *testing.T) {
	s := secureServer(t)
	fee := join(t, s, "fee-calc")
	var inner, handled atomic.Int32
	var seen atomic.Value // rpc.CallInfo
	mw := func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			inner.Add(1)
			return next(ctx, req)
		}
	}
	booth, err := fee.NewBooth(rpc.BoothConfig{Version: "1.0.0"}, rpc.WithBoothMiddleware(mw))
	if err != nil {
		t.Fatal(err)
	}
	if err := rpc.Handle(booth, "/calculate", func(ctx context.Context, req *feeRequest) (*feeReply, error) {
		handled.Add(1)
		ci, _ := rpc.CallInfoFromContext(ctx)
		seen.Store(*ci)
		return &feeReply{Amount: 125, Currency: "USD"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	gw := join(t, s, "gateway")

	// A good call.
	var got feeReply
	ctx := rpc.WithRequestID(t.Context(), "882ce588-95ea-4dea-a2d8-fe4a995c0619")
	if err := gw.Client().Call(ctx, "fee-calc", "/calculate", feeRequest{"professional-engineer"}, &got); err != nil || got.Amount != 125 {
		t.Fatalf("call: %+v, %v", got, err)
	}
	ci := seen.Load().(rpc.CallInfo)
	if ci.Caller != "gateway" || !ci.Authenticated || ci.Actor != "" || ci.Header.Get(rpc.HeaderAuthorization) == "" {
		t.Errorf("the handler saw %+v, want the authenticated gateway and its token", ci)
	}

	// A call without a token: a bare request with the gateway's own
	// connection, which the broker lets through.
	msg, err := gw.Conn().RequestMsgWithContext(t.Context(), &nats.Msg{Subject: "svc.fee-calc.calculate",
		Header: nats.Header{rpc.HeaderRequestID: {"0f8fad5b-d9cb-469f-a165-70867728950e"}, rpc.HeaderCaller: {"gateway"}}, Data: []byte(`{"license_type":"architect"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if code := msg.Header.Get("Nats-Service-Error-Code"); code != "401" {
		t.Errorf("untokened call answered %q, want 401", code)
	}

	// A call the matrix does not grant: refused before it is sent.
	if err := gw.Client().Call(t.Context(), "payment", "/refund", feeRequest{}, nil); rpc.CodeOf(err) != rpc.CodePermissionDenied {
		t.Errorf("payment /refund: %v, want 403 from the signer", err)
	}

	if n, h := inner.Load(), handled.Load(); n != 1 || h != 1 {
		t.Errorf("the program's middleware ran %d times and the handler %d, want once each: the token check is outside them", n, h)
	}
	for _, tt := range []struct {
		m    *mesh.Mesh
		want []string
	}{
		{fee, []string{
			`hms_svc_booth_requests_total{code="ok",path="/calculate",service="fee-calc"} 1`,
			`hms_svc_booth_requests_total{code="401",path="/calculate",service="fee-calc"} 1`,
		}},
		{gw, []string{
			`hms_svc_client_requests_total{code="ok",path="/calculate",service="fee-calc"} 1`,
			`hms_svc_client_attempts_total{code="403",path="/refund",service="payment"} 1`,
		}},
	} {
		body := scrape(t, tt.m)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s's metrics lack %s", tt.m.Identity(), w)
			}
		}
	}

	// The trace: the gateway's attempt and fee-calc's handling of the good
	// call, and the refused calls too.
	want := map[string]bool{
		"client gateway fee-calc/calculate 0": false, "server gateway fee-calc/calculate 0": false,
		"server gateway fee-calc/calculate 401": false, "client gateway payment/refund 403": false,
	}
	var goodTrace [2]trace.TraceID
	readTraces(t, join(t, s, "inspector"), func(ev trace.Event) bool {
		k := fmt.Sprintf("%s %s %s%s %d", ev.Kind, ev.Caller, ev.Service, ev.Path, ev.Code)
		if _, ok := want[k]; ok {
			want[k] = true
		}
		if ev.Code == 0 && ev.Kind == trace.KindClient {
			goodTrace[0] = ev.TraceID
		} else if ev.Code == 0 {
			goodTrace[1] = ev.TraceID
		}
		for _, seen := range want {
			if !seen {
				return true
			}
		}
		return false
	})
	for k, seen := range want {
		if !seen {
			t.Errorf("no trace event %q", k)
		}
	}
	if goodTrace[0] != goodTrace[1] {
		t.Errorf("the good call's spans are in traces %v, want one", goodTrace)
	}
}

// readTraces reads SVC_TRACE through m's connection, handing each event to
// fn until it returns false or 10 s pass.
func readTraces(t *testing.T, m *mesh.Mesh, fn func(trace.Event) bool) {
	t.Helper()
	js, err := jetstream.New(m.Conn())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := errors.New("done")
	err = trace.Follow(ctx, js, time.Now().Add(-time.Hour), func(ev trace.Event) error {
		if !fn(ev) {
			return done
		}
		return nil
	})
	if err != nil && !errors.Is(err, done) && ctx.Err() == nil {
		t.Fatal(err)
	}
}

// scrape returns m's metrics in the text format.
func scrape(t *testing.T, m *mesh.Mesh) string {
	t.Helper()
	var sb strings.Builder
	fams, err := m.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "hms_svc_") {
			continue
		}
		for _, metric := range f.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			v := metric.GetCounter().GetValue() + metric.GetGauge().GetValue()
			fmt.Fprintf(&sb, "%s{%s} %g\n", f.GetName(), strings.Join(labels, ","), v)
		}
	}
	return sb.String()
}

// boothConfig is the fee-calc booth's config in these tests.
func boothConfig() rpc.BoothConfig { return rpc.BoothConfig{Version: "1.0.0"} }

// handleFee serves fee-calc's /calculate on b: 125 USD.
func handleFee(t *testing.T, b *rpc.Booth) {
	t.Helper()
	if err := rpc.Handle(b, "/calculate", func(ctx context.Context, req *feeRequest) (*feeReply, error) {
		return &feeReply{Amount: 125, Currency: "USD"}, nil
	}); err != nil {
		t.Fatal(err)
	}
}
