package sidecar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/sidecar"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

const token = "0123456789abcdef-test-token"

// fixture is a secure mesh with fee-calc, the gateway, and clerk: a Go
// HTTP app behind a sidecar.
type fixture struct {
	srv     *server.Server
	clerk   *mesh.Mesh
	sidecar *sidecar.Sidecar
	out     string // the sidecar's outbound base URL
	gateway *rpc.Client
	gw      *mesh.Mesh
	app     *clerkApp
}

// clerkApp is the app behind the sidecar: what it saw, and what it does.
type clerkApp struct {
	out     string // the sidecar's outbound URL, set once it listens
	mu      sync.Mutex
	headers map[string]http.Header // by path: the last call's headers
	charges atomic.Int32
	waiting atomic.Int32 // calls inside /wait
}

func (a *clerkApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Reading the body lets the server notice a caller that hangs up.
	_, _ = io.Copy(io.Discard, r.Body)
	a.mu.Lock()
	a.headers[r.URL.Path] = r.Header.Clone()
	a.mu.Unlock()
	switch r.URL.Path {
	case "/hello":
		// An outbound call that continues the inbound call's trace.
		req, _ := http.NewRequestWithContext(r.Context(), "POST", a.out+"/v1/call/fee-calc/calculate",
			strings.NewReader(`{"license_type":"architect"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("traceparent", r.Header.Get("traceparent"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Fprintf(w, `{"caller":%q,"fee":%s}`, r.Header.Get(rpc.HeaderCaller), body)
	case "/reject":
		w.WriteHeader(422)
		io.WriteString(w, `{"error":{"code":422,"message":"the form lacks a signature"}}`)
	case "/conflict":
		w.WriteHeader(409)
		io.WriteString(w, `{"message":"already filed"}`)
	case "/boom":
		http.Error(w, "panic: nil map", 500)
	case "/busy":
		w.WriteHeader(503)
		io.WriteString(w, `{"message":"warming up"}`)
	case "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	case "/wait":
		a.waiting.Add(1)
		time.Sleep(100 * time.Millisecond) // within the 300 ms attempt timeout
		io.WriteString(w, `{"ok":true}`)
	case "/text":
		io.WriteString(w, "not json")
	case "/charge":
		a.charges.Add(1)
		fmt.Fprintf(w, `{"txn":%q}`, uuid.NewString())
	default:
		http.NotFound(w, r)
	}
}

func (a *clerkApp) saw(path string) http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.headers[path]
}

// start runs the fixture; listen is the sidecar's outbound address.
func start(t *testing.T, listen string) *fixture {
	t.Helper()
	s := secureServer(t)
	fee := join(t, s, "fee-calc")
	b, err := fee.NewBooth(rpc.BoothConfig{Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rpc.Handle(b, "/calculate", func(ctx context.Context, _ *struct{}) (*map[string]any, error) {
		return &map[string]any{"amount": 150, "currency": "USD"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	app := &clerkApp{headers: map[string]http.Header{}}
	appSrv := httptest.NewServer(app)
	t.Cleanup(appSrv.Close)
	f := &fixture{srv: s, app: app, clerk: join(t, s, "clerk")}
	no := false
	cfg := sidecar.Config{
		AppURL: appSrv.URL, Listen: listen, APIToken: token, Logger: quiet, Version: "2.0.0",
		Endpoints: []sidecar.Endpoint{{Path: "/hello"}, {Path: "/reject"}, {Path: "/conflict"}, {Path: "/boom"},
			{Path: "/busy"}, {Path: "/slow"}, {Path: "/text"}, {Path: "/wait"}, {Path: "/charge", Idempotent: &no}},
	}
	if f.sidecar, err = sidecar.Start(t.Context(), f.clerk, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.sidecar.Stop(context.Background()) })
	f.out = "http://" + f.sidecar.Addr().String()
	app.out = f.out
	f.gw = join(t, s, "gateway")
	f.gateway = f.gw.Client()
	return f
}

// An inbound call reaches the app with the call's facts as headers, the
// app's outbound call goes through the sidecar as clerk, and both are one
// trace with the gateway's attempt, the sidecar's booth span and its
// outbound hop, and fee-calc's handling.
func TestInboundAndOutboundCallsAreOneTrace(t *testing.T) {
	f := start(t, "127.0.0.1:0")
	tid, _ := trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.ParseSpanID("00f067aa0ba902b7")
	ctx := trace.ContextWithSpan(t.Context(), trace.SpanContext{TraceID: tid, SpanID: sid, Flags: trace.FlagSampled})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var got struct {
		Caller string `json:"caller"`
		Fee    struct {
			Amount int `json:"amount"`
		} `json:"fee"`
	}
	if err := f.gateway.Call(rpc.WithRequestID(ctx, "882ce588-95ea-4dea-a2d8-fe4a995c0619"), "clerk", "/hello", map[string]string{}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Caller != "gateway" || got.Fee.Amount != 150 {
		t.Errorf("got %+v, want the gateway as caller and fee-calc's 150", got)
	}
	h := f.app.saw("/hello")
	ms, _ := strconv.Atoi(h.Get(rpc.HeaderTimeout))
	if h.Get(rpc.HeaderRequestID) != "882ce588-95ea-4dea-a2d8-fe4a995c0619" || h.Get(rpc.HeaderAttempt) != "1" ||
		ms <= 0 || ms > 5000 || !strings.HasPrefix(h.Get("traceparent"), "00-"+tid.String()+"-") ||
		h.Get("Content-Type") != "application/json" || h.Get("Authorization") != "" {
		t.Errorf("the app saw headers %v, want the request id, attempt 1, the deadline, the trace and no token", h)
	}
	want := map[string]bool{
		"client gateway clerk /hello":                    false,
		"server gateway clerk /hello":                    false,
		"server clerk clerk /v1/call/fee-calc/calculate": false,
		"client clerk fee-calc /calculate":               false,
		"server clerk fee-calc /calculate":               false,
	}
	readTrace(t, f.srv, tid, func(ev trace.Event) {
		want[fmt.Sprintf("%s %s %s %s", ev.Kind, ev.Caller, ev.Service, ev.Path)] = true
	}, len(want))
	for k, seen := range want {
		if !seen {
			t.Errorf("trace %s lacks the hop %q", tid, k)
		}
	}
}

// readTrace reads trace id's events as the inspector until it has n.
func readTrace(t *testing.T, s *server.Server, id trace.TraceID, fn func(trace.Event), n int) {
	t.Helper()
	js := inspector(t, s)
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, err := trace.Get(t.Context(), js, id)
		if err == nil && len(events) >= n || time.Now().After(deadline) {
			for _, ev := range events {
				fn(ev)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The app's answers become the mesh's codes: a 4xx keeps its code and
// message, a 503 stays 503, another 5xx is 500, a body that is not JSON is
// 500, an app that is down is 503 at once, one slower than the deadline is
// 504 and saw the deadline; a not-idempotent endpoint runs once per
// request id.
func TestAppAnswersMapToMeshCodes(t *testing.T) {
	f := start(t, "127.0.0.1:0")
	tests := []struct {
		path     string
		timeout  time.Duration
		wantCode rpc.Code
		wantMsg  string
	}{
		{"/reject", 5 * time.Second, 422, "the form lacks a signature"},
		{"/conflict", 5 * time.Second, rpc.CodeConflict, "already filed"},
		{"/busy", 5 * time.Second, rpc.CodeUnavailable, "the app is unavailable: warming up"},
		{"/boom", 5 * time.Second, rpc.CodeInternal, "the app failed (HTTP 500): panic: nil map"},
		{"/text", 5 * time.Second, rpc.CodeInternal, "the app answered 200 with a body that is not JSON"},
		{"/slow", 400 * time.Millisecond, rpc.CodeDeadlineExceeded, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			// A client of its own: three failures in a row open a
			// breaker, which is not what this test is about.
			c, err := f.gw.NewClient()
			if err != nil {
				t.Fatal(err)
			}
			err = c.Call(ctx, "clerk", tt.path, map[string]string{}, nil)
			if rpc.CodeOf(err) != tt.wantCode || !strings.Contains(rpc.MessageOf(err), tt.wantMsg) {
				t.Errorf("err = %v (code %d), want %d saying %q", err, rpc.CodeOf(err), tt.wantCode, tt.wantMsg)
			}
		})
	}
	if ms, _ := strconv.Atoi(f.app.saw("/slow").Get(rpc.HeaderTimeout)); ms <= 0 || ms > 400 {
		t.Errorf("the slow app saw %s %q, want at most the 400 ms budget", rpc.HeaderTimeout, f.app.saw("/slow").Get(rpc.HeaderTimeout))
	}

	// Exactly once: the same request id twice runs the app once.
	ctx := rpc.WithRequestID(t.Context(), "6f1c2f0e-2a7b-4c36-9a0b-3b6f7c1d2e4f")
	var first, second struct{ Txn string }
	for _, out := range []*struct{ Txn string }{&first, &second} {
		if err := f.gateway.Call(ctx, "clerk", "/charge", map[string]int{"amount": 125}, out); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.app.charges.Load(); n != 1 || first.Txn == "" || first != second {
		t.Errorf("the app charged %d times (%q, %q), want once, replayed", n, first.Txn, second.Txn)
	}
}

// An app that is down is a clear 503, and soon: the sidecar does not wait
// for the deadline.
func TestAnAppThatIsDownIs503(t *testing.T) {
	s := secureServer(t)
	clerk := join(t, s, "clerk")
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	sc, err := sidecar.Start(t.Context(), clerk, sidecar.Config{AppURL: url, Listen: "127.0.0.1:0", APIToken: token,
		Endpoints: []sidecar.Endpoint{{Path: "/hello"}}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err = join(t, s, "gateway").Client().Call(ctx, "clerk", "/hello", map[string]string{}, nil)
	took := time.Since(start)
	if rpc.CodeOf(err) != rpc.CodeUnavailable || !strings.Contains(rpc.MessageOf(err), "is not reachable") {
		t.Errorf("err = %v, want 503 saying the app is not reachable", err)
	}
	t.Logf("an app that is down: %v in %v", rpc.CodeOf(err), took)
	if took > 10*time.Second {
		t.Errorf("the refusal took %v of the 20 s budget, want it at once", took)
	}
}

// The outbound endpoint serves the bridge's call API to the holder of the
// API token only, as the app's identity within the matrix, with the
// bridge's JSON errors; nothing is published for a refused request. It
// listens on a unix socket as well as on loopback.
func TestOutboundCallsNeedTheTokenAndTheMatrix(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "unix"} {
		t.Run(listen, func(t *testing.T) {
			if listen == "unix" {
				listen = sidecar.UnixPrefix + filepath.Join(t.TempDir(), "mesh.sock")
			}
			f := start(t, listen)
			if path, ok := strings.CutPrefix(listen, sidecar.UnixPrefix); ok {
				// Only the sidecar's own user may use the socket.
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
					t.Fatalf("the socket %s: %v %v, want a socket of mode 0600", path, fi.Mode(), err)
				}
			}
			published := watch(t, f.srv, f.clerk.Conn())
			c, base := outboundClient(f, listen)
			call := "/v1/call/fee-calc/calculate"
			big := `{"x":"` + strings.Repeat("a", 2<<20) + `"}`
			tests := []struct {
				name, path, body, auth, ct string
				wantStatus                 int
				wantMsg                    string
			}{
				{"no token", call, `{}`, "", "application/json", 401, "the sidecar's API token is required"},
				{"wrong token", call, `{}`, "Bearer not-the-token-at-all", "application/json", 401, "the sidecar's API token is required"},
				{"denied by the matrix", "/v1/call/payment/charge", `{}`, "Bearer " + token, "application/json", 403, "the matrix does not allow clerk to call payment /charge"},
				{"bad JSON", call, `{"a":`, "Bearer " + token, "application/json", 400, "JSON"},
				{"bad service", "/v1/call/fee.calc/calculate", `{}`, "Bearer " + token, "application/json", 400, "not allowed"},
				{"bad path", "/v1/call/fee-calc/a.b", `{}`, "Bearer " + token, "application/json", 400, "not allowed"},
				{"oversize body", call, big, "Bearer " + token, "application/json", 413, ""},
				{"wrong content type", call, `{}`, "Bearer " + token, "text/plain", 415, ""},
				{"no monitoring here", "/v1/services", ``, "Bearer " + token, "", 404, "serves /v1/call/{service}/{path} only"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					method := "POST"
					if tt.body == "" {
						method = "GET"
					}
					status, e := do(t, c, method, base+tt.path, tt.body, tt.auth, tt.ct)
					if status != tt.wantStatus || e.Error.Code != tt.wantStatus || !strings.Contains(e.Error.Message, tt.wantMsg) || len(e.Error.TraceID) != 32 {
						t.Errorf("got %d %+v, want %d saying %q with a trace id", status, e.Error, tt.wantStatus, tt.wantMsg)
					}
					if got := published(); len(got) != 0 {
						t.Errorf("published %v for a refused request, want nothing", got)
					}
				})
			}
			status, _ := do(t, c, "POST", base+call, `{"license_type":"architect"}`, "Bearer "+token, "application/json")
			if got := published(); status != 200 || len(got) != 1 || got[0] != "svc.fee-calc.calculate" {
				t.Errorf("a good call: %d, published %v; want 200 and one call", status, got)
			}
		})
	}
}

// errorBody is the bridge's JSON error.
type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		TraceID string `json:"trace_id"`
	} `json:"error"`
}

// outboundClient returns an HTTP/1.1 client of the sidecar's outbound
// endpoint, and its base URL.
func outboundClient(f *fixture, listen string) (*http.Client, string) {
	if path, ok := strings.CutPrefix(listen, sidecar.UnixPrefix); ok {
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}, "http://sidecar"
	}
	return &http.Client{Timeout: 10 * time.Second}, f.out
}

func do(t *testing.T, c *http.Client, method, url, body, auth, ct string) (int, errorBody) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var e errorBody
	if res.StatusCode != 200 {
		if err := json.Unmarshal(data, &e); err != nil {
			t.Errorf("%s %s: %d %s is not a JSON error", method, url, res.StatusCode, data)
		}
	}
	return res.StatusCode, e
}

// Stop drains: calls in flight at the app are answered, and the sidecar
// stops without an error.
func TestStopDrainsCallsInFlight(t *testing.T) {
	f := start(t, "127.0.0.1:0")
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			errs <- f.gateway.Call(ctx, "clerk", "/wait", map[string]string{}, nil)
		}()
	}
	natstest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if got := f.app.waiting.Load(); got < n {
			return fmt.Errorf("%d of %d calls at the app", got, n)
		}
		return nil
	})
	if err := f.sidecar.Stop(t.Context()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	failed := 0
	for range n {
		if err := <-errs; err != nil {
			failed++
			t.Logf("a call in flight failed: %v", err)
		}
	}
	if failed != 0 {
		t.Errorf("%d of %d calls in flight failed across the stop, want 0", failed, n)
	}
}
