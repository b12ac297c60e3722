package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/tracecli"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// forgeInto publishes, with fee-calc's real credentials on the one trace
// subject NATS lets it publish on (svc.trace.fee-calc), a batch of three
// events in trace id: a server span of payment /refund, a client span of
// the gateway calling payment /refund (both under the bridge's real attempt
// on payment, parent), and last a server span of fee-calc itself, which it
// may record: when a reader has seen it, it has read the forged two.
func forgeInto(t *testing.T, m *fixture, id trace.TraceID, parent trace.SpanID) (canary trace.SpanID) {
	t.Helper()
	now := time.Now().UTC()
	ev := func(span byte, kind trace.Kind, caller, service, path string) trace.Event {
		return trace.Event{
			TraceID: id, SpanID: trace.SpanID{0xf0, 0, 0, 0, 0, 0, 0, span}, ParentSpanID: parent,
			Kind: kind, Caller: caller, Service: service, Path: path, Attempt: 1,
			Start: now, Stop: now.Add(time.Millisecond), DurationUS: 1000, Instance: "forger",
		}
	}
	events := []trace.Event{
		ev(1, trace.KindServer, "gateway", "payment", "/refund"),
		ev(2, trace.KindClient, "gateway", "payment", "/refund"),
		ev(3, trace.KindServer, "gateway", "fee-calc", "/forger-canary"),
	}
	data, err := json.Marshal(map[string]any{"v": trace.BatchVersion, "events": events})
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(connectAs(t, m.app, "fee-calc"))
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: "svc.trace.fee-calc", Data: data, Header: nats.Header{trace.HeaderTraceIDs: {id.String()}}}
	if _, err := js.PublishMsg(t.Context(), msg); err != nil {
		t.Fatalf("fee-calc publishing on its own trace subject: %v", err)
	}
	return events[2].SpanID
}

// isForged reports whether ev is one of forgeInto's refused events.
func isForged(ev trace.Event) bool { return ev.Path == "/refund" }

// A booth's real credentials let it publish on its own trace subject only,
// but what it says there is checked too: fee-calc's events claiming to be
// payment's handling of /refund, or the gateway's call of it, inside
// Avery's real trace, are stored by JetStream and served by no reader: not
// the live stream of the monitoring listener, not GET /v1/traces/{id}, not
// meshctl trace show or tail. The bridge counts each one it withheld in
// hms_svc_trace_events_rejected_total by reason, and meshctl logs them.
func TestForgedTraceEventsAreWithheld(t *testing.T) {
	m := startMesh(t)
	const traceID = "5d1c0f3e9a8b47d2b6a1c3e5f7091b2d"
	runAvery(t, m, traceID)
	real := fetchTrace(t, m, traceID, 3*len(averyCalls))
	var attempt trace.Event // the bridge's attempt on payment
	for _, ev := range real.Events {
		if ev.Kind == trace.KindClient && ev.Service == "payment" {
			attempt = ev
		}
	}
	id, err := trace.ParseTraceID(traceID)
	if err != nil {
		t.Fatal(err)
	}

	// The live stream, as the live page reads it, from before Avery's calls.
	live := followLive(t, m.monitor+"/v1/traces/live?since=10m")
	canary := forgeInto(t, m, id, attempt.SpanID)
	var streamed []trace.Event
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for {
			select {
			case ev := <-live:
				streamed = append(streamed, ev)
				if ev.SpanID == canary {
					return nil
				}
			default:
				return fmt.Errorf("the live stream has not delivered fee-calc's own event yet (%d events)", len(streamed))
			}
		}
	})
	if len(streamed) != 3*len(averyCalls)+1 {
		t.Errorf("the live stream delivered %d events, want Avery's %d and fee-calc's own", len(streamed), 3*len(averyCalls))
	}
	for _, ev := range streamed {
		if isForged(ev) {
			t.Errorf("the live stream served the forged %s span of %s %s (caller %s)", ev.Kind, ev.Service, ev.Path, ev.Caller)
		}
	}

	// The trace lookup, once: Avery's events and fee-calc's own.
	got := fetchTrace(t, m, traceID, 3*len(averyCalls)+1)
	for _, ev := range got.Events {
		if isForged(ev) {
			t.Errorf("GET /v1/traces/%s served the forged %s span of %s %s", traceID, ev.Kind, ev.Service, ev.Path)
		}
	}
	if strings.Contains(got.Mermaid, "/refund") {
		t.Errorf("the trace's diagram draws the forged call:\n%s", got.Mermaid)
	}

	// One withheld event of each reason per reader: the stream, the lookup.
	metrics := string(scrape(t, m.monitor+"/metrics"))
	for _, want := range []string{
		`hms_svc_trace_events_rejected_total{reason="server_span_of_another_service"} 2`,
		`hms_svc_trace_events_rejected_total{reason="client_span_of_another_caller"} 2`,
		`hms_svc_trace_events_rejected_total{reason="malformed_batch"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("bridge /metrics lacks %s", want)
		}
	}

	// meshctl's readers, as the inspector.
	js, err := jetstream.New(connectAs(t, m.app, "inspector"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	screen := trace.NewScreen(slog.New(slog.NewTextHandler(&logs, nil)))
	var show bytes.Buffer
	if err := tracecli.Show(t.Context(), js, traceID, &show, trace.WithScreen(screen)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tail := &untilLine{want: "fee-calc /forger-canary", cancel: cancel}
	if err := tracecli.Tail(ctx, js, time.Now().Add(-10*time.Minute), 0, tail, trace.WithScreen(screen)); err != nil {
		t.Fatal(err)
	}
	if !tail.seen {
		t.Fatalf("meshctl trace tail did not print fee-calc's own event:\n%s", tail.buf.String())
	}
	for what, out := range map[string]string{"show": show.String(), "tail": tail.buf.String()} {
		if strings.Contains(out, "/refund") {
			t.Errorf("meshctl trace %s prints the forged call:\n%s", what, out)
		}
	}
	if !strings.Contains(show.String(), fmt.Sprintf("%d events", 3*len(averyCalls)+1)) {
		t.Errorf("meshctl trace show: want Avery's events and fee-calc's own:\n%s", show.String())
	}
	if s, c := screen.Rejected(trace.RejectServerOfAnother), screen.Rejected(trace.RejectClientOfAnother); s != 2 || c != 2 {
		t.Errorf("meshctl withheld %d server and %d client spans, want 2 and 2 (one each by show and by tail)", s, c)
	}
	if n := strings.Count(logs.String(), "trace events withheld"); n != 1 {
		t.Errorf("meshctl logged %d lines for 4 withheld events, want 1 (at most one a minute):\n%s", n, logs.String())
	}
}

// followLive reads the SSE stream at url (on the monitoring listener: no
// certificate) until the test ends and passes on each event.
func followLive(t *testing.T, url string) <-chan trace.Event {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("live: %s %s %s, want 200 text/event-stream", res.Status, res.Header.Get("Content-Type"), body)
	}
	events := make(chan trace.Event, 256)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			var ev trace.Event
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && json.Unmarshal([]byte(data), &ev) == nil {
				select {
				case events <- ev:
				case <-req.Context().Done():
					return
				}
			}
		}
	}()
	return events
}

// untilLine keeps what is written and calls cancel once a line holding
// want is.
type untilLine struct {
	want   string
	cancel context.CancelFunc
	buf    bytes.Buffer
	seen   bool
}

func (u *untilLine) Write(p []byte) (int, error) {
	u.buf.Write(p)
	if bytes.Contains(p, []byte(u.want)) {
		u.seen = true
		u.cancel()
	}
	return len(p), nil
}
