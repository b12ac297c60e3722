package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/subjects"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// With --monitor-listen a browser reads the live page and the metrics
// without a certificate, and the stream is made with the configured
// retention.
func TestMonitoringListenerAndTraceStream(t *testing.T) {
	t.Parallel()
	cfg := config(t)
	cfg.MonitorListen = "127.0.0.1:0"
	cfg.TraceMaxAge, cfg.TraceMaxBytes = 2*time.Hour, 64<<20
	a, _ := start(t, cfg)
	if a.MonitorAddr() == nil {
		t.Fatal("no monitoring listener")
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(plain.CloseIdleConnections)
	base := "http://" + a.MonitorAddr().String()
	for path, want := range map[string]string{
		"/ui":      "<html",
		"/metrics": `hms_svc_trace_events_published_total{emitter="bridge"}`,
	} {
		if status, _, body := get(t, plain, base+path); status != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %.300s, want 200 holding %q", path, status, body, want)
		}
	}
	if status, _, body := get(t, plain, base+"/v1/licenses/lic-1"); status != 404 {
		t.Errorf("a license on the monitoring listener: %d %s, want 404", status, body)
	}
	// The HTTPS listener serves the same endpoints to the gateway.
	if status, _, body := get(t, client(t, "gateway", false), "https://"+a.Addr().String()+"/metrics"); status != 200 || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("/metrics over HTTPS: %d %.300s, want 200 with the Go runtime's metrics", status, body)
	}

	js, err := jetstream.New(connectAs(t, a, "bridge"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), subjects.TraceStream)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.CachedInfo().Config; c.MaxAge != 2*time.Hour || c.MaxBytes != 64<<20 || c.Replicas != 1 {
		t.Errorf("SVC_TRACE max age %v, max bytes %d, replicas %d; want 2h, 64 MiB, 1", c.MaxAge, c.MaxBytes, c.Replicas)
	}
}

// Stopping the bridge publishes the trace events it still holds before the
// connection drains: a call answered just before the stop is in the stream
// afterwards.
func TestShutdownFlushesTraceEvents(t *testing.T) {
	t.Parallel()
	mx, err := matrix.Load(matrixFile)
	if err != nil {
		t.Fatal(err)
	}
	if mx, err = mx.LoadKeys(meshDir); err != nil {
		t.Fatal(err)
	}
	s := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(), Tune: func(o *server.Options) error {
		return natsauth.Apply(o, mx, mx.Keys(), natsauth.ServerFiles(meshDir))
	}})
	cfg := config(t)
	cfg.NATSURL = s.ClientURL()
	a, stop := start(t, cfg)

	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequest("POST", "https://"+a.Addr().String()+"/v1/call/fee-calc/a.b", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("traceparent", "00-"+id+"-00f067aa0ba902b7-01")
	res, err := client(t, "gateway", false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("status %d, want 400", res.StatusCode)
	}
	stop()

	opts, err := mesh.Credentials{Dir: meshDir}.NATSOptions("bridge")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	tid, _ := trace.ParseTraceID(id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	events, err := trace.Get(ctx, js, tid)
	if err != nil || len(events) != 1 || events[0].Code != 400 || events[0].Caller != "gateway" {
		t.Errorf("after the stop, trace %s holds %+v (%v), want the refused call's span", id, events, err)
	}
}

// With --health-listen a client without a certificate, as a kubelet is,
// reads /healthz and /readyz in cleartext, and nothing else.
func TestHealthListener(t *testing.T) {
	t.Parallel()
	cfg := config(t)
	cfg.HealthListen = "127.0.0.1:0"
	a, _ := start(t, cfg)
	if a.HealthAddr() == nil || a.MonitorAddr() != nil {
		t.Fatalf("health listener %v, monitoring listener %v; want only the health listener", a.HealthAddr(), a.MonitorAddr())
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(plain.CloseIdleConnections)
	base := "http://" + a.HealthAddr().String()
	for path, want := range map[string]string{"/healthz": `"status":"ok"`, "/readyz": `"status":"ready"`} {
		if status, _, body := get(t, plain, base+path); status != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %s, want 200 holding %s", path, status, body, want)
		}
	}
	for _, path := range []string{"/metrics", "/ui", "/v1/services", "/v1/breakers", "/v1/traces/live", "/v1/licenses/lic-1"} {
		if status, _, body := get(t, plain, base+path); status != 404 {
			t.Errorf("GET %s on the health listener: %d %.200s, want 404", path, status, body)
		}
	}
}
