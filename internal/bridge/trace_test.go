package bridge_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// stored waits until the trace holds want events and returns them.
func stored(t *testing.T, m *fixture, id string, want int) []trace.Event {
	t.Helper()
	tid, err := trace.ParseTraceID(id)
	if err != nil {
		t.Fatal(err)
	}
	var events []trace.Event
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		events, err = trace.Get(t.Context(), m.js, tid)
		if err == nil && len(events) != want {
			err = fmt.Errorf("trace %s has %d events, want %d", id, len(events), want)
		}
		return err
	})
	return events
}

// A call is the bridge's server span, child of the caller's traceparent,
// and each attempt a client span, child of the server span and parent of
// what the booth sees.
func TestACallIsAServerSpanParentOfItsAttempt(t *testing.T) {
	t.Parallel()
	m := startTracedMesh(t, nil)
	got, _ := rawBooth(t, m, `{"amount":125}`)
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const key = "5b0f3c52-8f0b-4c3e-9a55-2b8f6e1d0a11"
	res := m.post(t, "/v1/call/fee-calc/calculate", `{}`, "traceparent: "+tp, "tracestate: vendor=x", "Idempotency-Key: "+key)
	if res.status != 200 || res.header.Get(bridge.HeaderTraceID) != tp[3:35] {
		t.Fatalf("got %d with %s %q, want 200 in trace %s", res.status, bridge.HeaderTraceID, res.header.Get(bridge.HeaderTraceID), tp[3:35])
	}

	events := stored(t, m, tp[3:35], 2)
	srv, cli := events[0], events[1]
	wantServer := trace.Event{Kind: trace.KindServer, Caller: "gateway", Service: "bridge", Path: "/v1/call/fee-calc/calculate", RequestID: key, Attempt: 1}
	wantClient := trace.Event{Kind: trace.KindClient, Caller: "bridge", Service: "fee-calc", Path: "/calculate", RequestID: key, Attempt: 1}
	for _, c := range []struct{ got, want trace.Event }{{srv, wantServer}, {cli, wantClient}} {
		g := c.got
		if g.Kind != c.want.Kind || g.Caller != c.want.Caller || g.Service != c.want.Service || g.Path != c.want.Path ||
			g.RequestID != c.want.RequestID || g.Attempt != c.want.Attempt || g.Code != 0 {
			t.Errorf("event %+v, want %+v with code 0", g, c.want)
		}
	}
	if srv.ParentSpanID.String() != tp[36:52] {
		t.Errorf("server span's parent %s, want the caller's span %s", srv.ParentSpanID, tp[36:52])
	}
	if cli.ParentSpanID != srv.SpanID {
		t.Errorf("client span's parent %s, want the server span %s", cli.ParentSpanID, srv.SpanID)
	}
	if cli.Start.Before(srv.Start) || cli.Stop.After(srv.Stop) {
		t.Errorf("client span %v..%v is not within the server span %v..%v", cli.Start, cli.Stop, srv.Start, srv.Stop)
	}
	_, hdr := got.get()
	if want := "00-" + tp[3:35] + "-" + cli.SpanID.String() + "-01"; hdr.Get(rpc.HeaderTraceparent) != want {
		t.Errorf("booth saw traceparent %q, want the attempt's %q", hdr.Get(rpc.HeaderTraceparent), want)
	}
}

// A request refused before anything is published still names its trace,
// in the header and the error body, and its server span records the
// refusal; nothing but that trace event is published.
func TestARefusedCallIsTracedAndPublishesNothingElse(t *testing.T) {
	t.Parallel()
	m := startTracedMesh(t, nil)
	w := m.watch(t)
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	res := m.post(t, "/v1/call/fee-calc/a.b", `{}`, "traceparent: "+tp)
	e := errorOf(t, res)
	if res.status != 400 || e.TraceID != tp[3:35] || res.header.Get(bridge.HeaderTraceID) != tp[3:35] {
		t.Fatalf("got %d trace_id %q header %q, want 400 in trace %s", res.status, e.TraceID, res.header.Get(bridge.HeaderTraceID), tp[3:35])
	}
	events := stored(t, m, tp[3:35], 1)
	if ev := events[0]; ev.Kind != trace.KindServer || ev.Code != 400 || ev.Path != "/v1/call/fee-calc/a.b" || ev.Error == "" {
		t.Errorf("event %+v, want the refusal: a server span with code 400 and its error", ev)
	}
	svc, _ := w.published(t, m)
	for _, s := range svc {
		if s != "svc.trace.bridge" {
			t.Errorf("the refusal published on %s; only its trace event (svc.trace.bridge) may be", s)
		}
	}

	// Without a traceparent, the error names a new trace.
	res = m.post(t, "/v1/call/fee-calc/a.b", `{}`)
	if e := errorOf(t, res); len(e.TraceID) != 32 || e.TraceID != res.header.Get(bridge.HeaderTraceID) {
		t.Errorf("trace_id %q, header %q: want one new trace id in both", e.TraceID, res.header.Get(bridge.HeaderTraceID))
	}
}

func TestTraceLookup(t *testing.T) {
	t.Parallel()
	m := startTracedMesh(t, nil)
	rawBooth(t, m, `{}`)
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	if res := m.post(t, "/v1/call/fee-calc/calculate", `{}`, "traceparent: 00-"+id+"-00f067aa0ba902b7-01"); res.status != 200 {
		t.Fatalf("call: %d %s", res.status, res.body)
	}
	stored(t, m, id, 2)

	tests := []struct {
		name, id   string
		wantStatus int
		wantMsg    string
	}{
		{"stored", id, 200, ""},
		{"unknown", "0af7651916cd43dd8448eb211c80319c", 404, "trace not found"},
		{"upper case", strings.ToUpper(id), 400, "trace id"},
		{"short", "4bf92f", 400, "want 32 hex digits"},
		{"zeros", strings.Repeat("0", 32), 400, "all zeros"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := m.do(t, "GET", "/v1/traces/"+tt.id, "")
			if tt.wantStatus != 200 {
				if e := errorOf(t, res); res.status != tt.wantStatus || !strings.Contains(e.Message, tt.wantMsg) {
					t.Errorf("got %d %q, want %d containing %q", res.status, e.Message, tt.wantStatus, tt.wantMsg)
				}
				return
			}
			var got ui.Trace
			if err := json.Unmarshal(res.body, &got); err != nil || res.status != 200 {
				t.Fatalf("got %d %s (%v), want 200 and a trace", res.status, res.body, err)
			}
			if got.TraceID != id || len(got.Events) != 2 || !strings.Contains(got.Mermaid, "bridge->>fee_calc: /calculate") {
				t.Errorf("trace %s with %d events and diagram\n%s\nwant %s, 2 events, bridge->>fee_calc", got.TraceID, len(got.Events), got.Mermaid, id)
			}
		})
	}
}

// liveStream opens GET /v1/traces/live and returns its lines as they come.
func liveStream(t *testing.T, c *http.Client, url string) (<-chan string, *http.Response) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("live: %d %s, want 200 text/event-stream", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines, res
}

// The live stream delivers a call's events within a second, and ends when
// the bridge shuts down.
func TestLiveStreamDeliversCallsAndEndsAtShutdown(t *testing.T) {
	t.Parallel()
	m := startTracedMesh(t, nil)
	rawBooth(t, m, `{}`)
	lines, _ := liveStream(t, m.client, m.url+"/v1/traces/live?since=1m")

	const id = "0af7651916cd43dd8448eb211c80319c"
	res := m.post(t, "/v1/call/fee-calc/calculate", `{}`, "traceparent: 00-"+id+"-b7ad6b7169203331-01")
	if res.status != 200 {
		t.Fatalf("call: %d %s", res.status, res.body)
	}
	called := time.Now()
	deadline := time.After(time.Second)
	for seen := 0; seen < 2; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			data, isData := strings.CutPrefix(l, "data: ")
			var ev trace.Event
			if isData && json.Unmarshal([]byte(data), &ev) == nil && ev.TraceID.String() == id {
				seen++
			}
		case <-deadline:
			t.Fatalf("the call's 2 events did not arrive within 1s")
		}
	}
	t.Logf("both events streamed %v after the call returned", time.Since(called))

	go func() { _ = m.stop() }()
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the live stream did not end when the bridge shut down")
		}
	}
}

func TestLiveStreamRefusesABadSince(t *testing.T) {
	t.Parallel()
	m := startTracedMesh(t, nil)
	res := m.do(t, "GET", "/v1/traces/live?since=-5m", "")
	if e := errorOf(t, res); res.status != 400 || !strings.Contains(e.Message, "since") {
		t.Errorf("got %d %q, want 400 naming since", res.status, e.Message)
	}
	res = m.do(t, "POST", "/v1/traces/live", "")
	if e := errorOf(t, res); res.status != 405 || res.header.Get("Allow") != "GET" {
		t.Errorf("POST: %d %q (Allow %q), want 405 allowing GET", res.status, e.Message, res.header.Get("Allow"))
	}
}
