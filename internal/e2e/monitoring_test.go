package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hms-svc/hms-svc/internal/bridge/app"
	"github.com/hms-svc/hms-svc/internal/promtest"
)

// plainClient is what a browser on this machine or a Prometheus server
// is to the monitoring listener: HTTP/1.1, no certificate.
func plainClient(t *testing.T) *http.Client {
	c := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// scrape reads a /metrics exposition as a Prometheus server does, with no
// certificate.
func scrape(t *testing.T, url string) []byte {
	t.Helper()
	res, err := plainClient(t).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %s %s (%v), want 200 text/plain", url, res.Status, res.Header.Get("Content-Type"), err)
	}
	return body
}

// The metrics of the bridge and of booth-runner pass promtool and count
// Avery's four calls by service, path and code on both sides.
func TestMetricsCountAverysCalls(t *testing.T) {
	m := startMesh(t)
	runAvery(t, m, "0af7651916cd43dd8448eb211c80319c")

	bridge := scrape(t, m.monitor+"/metrics")
	boothRunner := scrape(t, "http://"+m.booths.MetricsAddr().String()+"/metrics")

	for _, c := range averyCalls {
		labels := `{code="ok",path="` + c.path + `",service="` + c.service + `"}`
		for _, want := range []struct{ what, exposition, line string }{
			{"bridge", string(bridge), "hms_svc_client_requests_total" + labels + " 1"},
			{"bridge", string(bridge), "hms_svc_client_attempts_total" + labels + " 1"},
			{"booth-runner", string(boothRunner), "hms_svc_booth_requests_total" + labels + " 1"},
			{"booth-runner", string(boothRunner), `hms_svc_booth_request_duration_seconds_count{path="` + c.path + `",service="` + c.service + `"} 1`},
		} {
			if !strings.Contains(want.exposition, want.line) {
				t.Errorf("%s /metrics lacks %s", want.what, want.line)
			}
		}
	}
	for _, want := range []string{`hms_svc_trace_events_published_total{emitter="bridge"}`, `hms_svc_trace_events_dropped_total{emitter="bridge",reason="full"} 0`} {
		if !strings.Contains(string(bridge), want) {
			t.Errorf("bridge /metrics lacks %s", want)
		}
	}
	for _, want := range []string{`hms_svc_trace_events_published_total{emitter="audit-log"}`, `hms_svc_booth_requests_in_flight{service="payment"} 0`,
		`hms_svc_audit_chain_problems_total{kind="foreign"} 0`, `hms_svc_audit_chain_problems_total{kind="gap"} 0`} {
		if !strings.Contains(string(boothRunner), want) {
			t.Errorf("booth-runner /metrics lacks %s", want)
		}
	}
	// Last, since it skips the rest where promtool is absent (outside CI).
	promtest.Check(t, "the bridge's /metrics", bridge)
	promtest.Check(t, "booth-runner's /metrics", boothRunner)
}

// The live stream on the monitoring listener, which a browser reads with no
// certificate, delivers a call's events within a second of the call.
func TestLiveStreamDeliversACallWithinASecond(t *testing.T) {
	m := startMesh(t)
	gw := httpsClient(t, certOf(t, dir, "gateway"))
	m.waitForBooths(t, gw)

	events := followLive(t, m.monitor+"/v1/traces/live")

	// The stream follows from when it was opened: a call made now shows.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	var latency time.Duration
	deadline := time.After(10 * time.Second)
	for n := 1; latency == 0; n++ {
		span := fmt.Sprintf("%016x", n) // the gateway's span of this call
		res := mustDo(t, gw, "POST", m.url+"/v1/call/fee-calc/calculate", averyCalls[0].body,
			"Content-Type: application/json", "Idempotency-Key: "+uuid.NewString(),
			"traceparent: 00-"+traceID+"-"+span+"-01")
		if res.status != 200 {
			t.Fatalf("call: %d %s", res.status, res.body)
		}
		called := time.Now()
		wait := time.After(time.Second)
	read:
		for {
			select {
			case ev := <-events:
				// The bridge's handling of this very call, not of an earlier one.
				if ev.TraceID.String() == traceID && ev.ParentSpanID.String() == span {
					latency = time.Since(called)
					break read
				}
			case <-wait:
				break read // the stream may not have been following yet: call again
			case <-deadline:
				t.Fatal("no event of the call came on the live stream within 10 s")
			}
		}
	}
	t.Logf("the bridge's event of the call came %v after it returned", latency)
	if latency > time.Second {
		t.Errorf("the call's event came %v after it returned, want within 1 s", latency)
	}
}

// The monitoring listener has no authentication: it is refused anywhere but
// on loopback, before anything starts.
func TestMonitoringListenerIsLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8081", "192.0.2.1:8081", ":8081", "[::]:8081"} {
		t.Run(addr, func(t *testing.T) {
			_, err := app.Start(t.Context(), app.Config{
				Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(),
				MeshDir: dir, MatrixFile: matrixFile, MonitorListen: addr, Logger: quiet,
			})
			if err == nil || !strings.Contains(err.Error(), "--monitor-listen") || !strings.Contains(err.Error(), "loopback") {
				t.Errorf("err = %v, want --monitor-listen refused off loopback", err)
			}
		})
	}
}
