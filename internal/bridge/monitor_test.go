package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// startMonitor serves the bridge's monitoring listener on 127.0.0.1 until
// the test ends and returns its base URL.
func startMonitor(t *testing.T, m *fixture) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.bridge.ServeMonitor(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeMonitor: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// The monitoring listener serves the read-only endpoints to a plain
// HTTP/1.1 client with no credentials, and nothing else: no call is made
// and nothing is published through it.
func TestMonitorServesOnlyReadOnlyEndpoints(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	rawBooth(t, m, `{}`)
	base := startMonitor(t, m)
	plain := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(plain.CloseIdleConnections)
	if res := m.post(t, "/v1/call/fee-calc/calculate", `{}`); res.status != 200 {
		t.Fatalf("call on the API listener: %d %s", res.status, res.body)
	}
	w := m.watch(t)

	served := []struct{ path, wantType, wantBody string }{
		{"/ui", "text/html; charset=utf-8", "<html"},
		{"/ui/app.js", "text/javascript; charset=utf-8", "EventSource"},
		{"/v1/services", "application/json", `"name":"fee-calc"`},
		{"/v1/breakers", "application/json", `{"breakers":{"fee-calc":"closed"}}`},
		{"/metrics", "text/plain; version=0.0.4", `hms_svc_client_requests_total{code="ok",path="/calculate",service="fee-calc"} 1`},
		{"/healthz", "application/json", `"ok"`},
		{"/readyz", "application/json", `"ready"`},
	}
	for _, tt := range served {
		t.Run("GET "+tt.path, func(t *testing.T) {
			res := doWith(t, plain, "GET", base+tt.path, "")
			if res.status != 200 || res.proto != 1 || !strings.HasPrefix(res.header.Get("Content-Type"), tt.wantType) || !strings.Contains(string(res.body), tt.wantBody) {
				t.Errorf("got %d over HTTP/%d, %q, %.200s; want 200 over HTTP/1.1, %q, holding %q",
					res.status, res.proto, res.header.Get("Content-Type"), res.body, tt.wantType, tt.wantBody)
			}
		})
	}

	refused := []struct{ method, path string }{
		{"POST", "/v1/call/fee-calc/calculate"},
		{"GET", "/v1/licenses/abc"},
		{"GET", "/v1/services/fee-calc"},
		{"GET", "/"},
	}
	for _, tt := range refused {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := doWith(t, plain, tt.method, base+tt.path, `{}`, "Content-Type: application/json")
			if e := errorOf(t, res); res.status != 404 || !strings.Contains(e.Message, "not served on the monitoring listener") {
				t.Errorf("got %d %q, want 404 saying the monitoring listener does not serve it", res.status, e.Message)
			}
		})
	}
	if svc, _ := w.published(t, m); len(svc) != 0 {
		t.Errorf("the monitoring listener published %v, want nothing", svc)
	}

	// h2c too, for HTTP/2 clients.
	if res := doWith(t, h2cClient(t), "GET", base+"/v1/breakers", ""); res.status != 200 || res.proto != 2 {
		t.Errorf("h2c: %d over HTTP/%d, want 200 over HTTP/2", res.status, res.proto)
	}
}

func TestMonitorRefusesANonLoopbackListener(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	ln := fakeAddrListener{addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 8081}}
	err := m.bridge.ServeMonitor(context.Background(), ln)
	if !errors.Is(err, bridge.ErrNotLoopback) || !strings.Contains(err.Error(), "monitoring listener") {
		t.Errorf("err = %v, want ErrNotLoopback naming the monitoring listener", err)
	}
}

// The breakers and metrics follow the calls: three failures open
// payment's breaker, and /metrics counts the calls by service, path and
// code, and the breaker's change.
func TestBreakersAndMetricsFollowTheCalls(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	rawBooth(t, m, `{}`)
	m.startBooth(t, "payment", func(b *rpc.Booth) error {
		return rpc.Handle(b, "/charge", func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, rpc.Errorf(rpc.CodeInternal, "ledger unavailable")
		})
	})
	if res := m.post(t, "/v1/call/fee-calc/calculate", `{}`); res.status != 200 {
		t.Fatalf("fee-calc: %d %s", res.status, res.body)
	}
	for range 3 {
		if res := m.post(t, "/v1/call/payment/charge", `{}`); res.status != 500 {
			t.Fatalf("payment: %d %s, want 500", res.status, res.body)
		}
	}
	if res := m.post(t, "/v1/call/payment/charge", `{}`); res.status != 503 {
		t.Fatalf("payment with its breaker open: %d %s, want 503", res.status, res.body)
	}

	var got ui.Breakers
	res := m.do(t, "GET", "/v1/breakers", "")
	if err := json.Unmarshal(res.body, &got); err != nil || res.status != 200 {
		t.Fatalf("breakers: %d %s", res.status, res.body)
	}
	if got.Breakers["fee-calc"] != "closed" || got.Breakers["payment"] != "open" || len(got.Breakers) != 2 {
		t.Errorf("breakers %v, want fee-calc closed and payment open", got.Breakers)
	}

	metrics := string(m.do(t, "GET", "/metrics", "").body)
	for _, want := range []string{
		`hms_svc_client_requests_total{code="ok",path="/calculate",service="fee-calc"} 1`,
		`hms_svc_client_requests_total{code="500",path="/charge",service="payment"} 3`,
		`hms_svc_client_requests_total{code="503",path="/charge",service="payment"} 1`,
		`hms_svc_client_attempts_total{code="500",path="/charge",service="payment"} 3`,
		`hms_svc_breaker_state_changes_total{from="closed",service="payment",to="open"} 1`,
		`hms_svc_breaker_state{service="payment"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
