package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// averyCalls are the four calls of Avery's license, in the gateway's order,
// with their bodies.
var averyCalls = []struct{ service, path, body string }{
	{"fee-calc", "/calculate", `{"name":"Avery Johnson","ssn":"123-45-6789","license_type":"professional-engineer"}`},
	{"payment", "/charge", `{"amount":125,"currency":"USD"}`},
	{"license-printer", "/generate", `{"name":"Avery Johnson","license_type":"professional-engineer"}`},
	{"audit-log", "/record", `{"user":"123-45-6789","fee":125,"doc_id":"doc-e2e"}`},
}

// runAvery makes the four calls through the bridge as the gateway does:
// one trace id, a span id of the gateway's per call. It returns the
// gateway's span id of each call.
func runAvery(t *testing.T, m *fixture, traceID string) []string {
	t.Helper()
	gw := httpsClient(t, certOf(t, dir, "gateway"))
	m.waitForBooths(t, gw)
	var spans []string
	for i, c := range averyCalls {
		span := fmt.Sprintf("%016x", 0xa0+i)
		res := mustDo(t, gw, "POST", m.url+"/v1/call/"+c.service+c.path, c.body,
			"Content-Type: application/json", "Idempotency-Key: "+uuid.NewString(),
			"traceparent: 00-"+traceID+"-"+span+"-01")
		if res.status != 200 || res.header.Get("Svc-Trace-Id") != traceID {
			t.Fatalf("%s %s: %d %s (trace %q), want 200 in trace %s", c.service, c.path, res.status, res.body, res.header.Get("Svc-Trace-Id"), traceID)
		}
		spans = append(spans, span)
	}
	return spans
}

// fetchTrace asks the bridge for the trace until it holds want events.
func fetchTrace(t *testing.T, m *fixture, traceID string, want int) ui.Trace {
	t.Helper()
	gw := httpsClient(t, certOf(t, dir, "gateway"))
	var got ui.Trace
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		res, err := do(t, gw, "GET", m.url+"/v1/traces/"+traceID, "")
		if err != nil {
			return err
		}
		if res.status != 200 {
			return &statusError{"trace " + traceID, res}
		}
		got = ui.Trace{}
		if err := json.Unmarshal(res.body, &got); err != nil {
			return err
		}
		if len(got.Events) != want {
			var hops []string
			for _, ev := range got.Events {
				hops = append(hops, fmt.Sprintf("%s %s->%s %s attempt %d code %d %v", ev.Kind, ev.Caller, ev.Service, ev.Path, ev.Attempt, ev.Code, ev.Duration()))
			}
			return fmt.Errorf("trace %s has %d events, want %d:\n%s", traceID, len(got.Events), want, strings.Join(hops, "\n"))
		}
		return nil
	})
	return got
}

// Avery's license through the secure mesh is one trace, the gateway's:
// for each call the bridge's handling (child of the gateway's span), its
// attempt (child of the handling) and the booth's handling (child of the
// attempt), nothing else, each inside its parent in time. The bridge serves
// it with a diagram naming the four booths.
func TestAverysLicenseIsOneTraceOfTheExpectedHops(t *testing.T) {
	m := startMesh(t)
	const traceID = "6b08b8f73768a47c0c42eef0f80a8d9a"
	spans := runAvery(t, m, traceID)
	got := fetchTrace(t, m, traceID, 3*len(averyCalls))
	if got.TraceID != traceID {
		t.Errorf("trace_id %q, want %s", got.TraceID, traceID)
	}

	byParent := map[string][]trace.Event{}
	for _, ev := range got.Events {
		if ev.TraceID.String() != traceID {
			t.Errorf("event %+v is in trace %s, want the gateway's %s", ev, ev.TraceID, traceID)
		}
		if ev.Code != 0 || ev.Attempt != 1 {
			t.Errorf("event %+v: code %d, attempt %d; want a first attempt that succeeded", ev, ev.Code, ev.Attempt)
		}
		byParent[ev.ParentSpanID.String()] = append(byParent[ev.ParentSpanID.String()], ev)
	}
	// only returns the one child of parent, failing unless there is exactly one.
	only := func(what, parent string) trace.Event {
		t.Helper()
		kids := byParent[parent]
		if len(kids) != 1 {
			t.Fatalf("%s: %d children of span %s, want 1: %+v", what, len(kids), parent, kids)
		}
		return kids[0]
	}
	within := func(what string, inner, outer trace.Event) {
		t.Helper()
		if inner.Start.Before(outer.Start) || inner.Stop.After(outer.Stop) {
			t.Errorf("%s: %v..%v is not within its parent's %v..%v", what, inner.Start, inner.Stop, outer.Start, outer.Stop)
		}
	}
	var prev trace.Event
	for i, c := range averyCalls {
		what := c.service + " " + c.path
		handling := only(what+": the bridge's handling", spans[i])
		attempt := only(what+": the bridge's attempt", handling.SpanID.String())
		booth := only(what+": the booth's handling", attempt.SpanID.String())
		if kids := byParent[booth.SpanID.String()]; len(kids) != 0 {
			t.Errorf("%s: the booth's handling has children %+v, want none", what, kids)
		}
		checks := []struct {
			name      string
			got, want [4]string
		}{
			{"bridge handling", [4]string{string(handling.Kind), handling.Caller, handling.Service, handling.Path},
				[4]string{"server", "gateway", "bridge", "/v1/call/" + c.service + c.path}},
			{"bridge attempt", [4]string{string(attempt.Kind), attempt.Caller, attempt.Service, attempt.Path},
				[4]string{"client", "bridge", c.service, c.path}},
			{"booth handling", [4]string{string(booth.Kind), booth.Caller, booth.Service, booth.Path},
				[4]string{"server", "gateway", c.service, c.path}},
		}
		for _, ck := range checks {
			if ck.got != ck.want {
				t.Errorf("%s: %s is kind, caller, service, path %q, want %q", what, ck.name, ck.got, ck.want)
			}
		}
		if booth.Instance != "e2e-1" || handling.RequestID == "" || attempt.RequestID != handling.RequestID || booth.RequestID != handling.RequestID {
			t.Errorf("%s: instance %q, request ids %q %q %q; want booth-runner's instance and one request id", what,
				booth.Instance, handling.RequestID, attempt.RequestID, booth.RequestID)
		}
		within(what+": attempt", attempt, handling)
		within(what+": booth", booth, attempt)
		if i > 0 && handling.Start.Before(prev.Stop) {
			t.Errorf("%s began at %v, before the call before it ended at %v", what, handling.Start, prev.Stop)
		}
		prev = handling
	}

	// The events come in causal order: each after its parent.
	seen := map[string]bool{}
	for _, ev := range got.Events {
		if p := ev.ParentSpanID.String(); !slices.Contains(spans, p) && !seen[p] {
			t.Errorf("event %s %s %s comes before its parent %s", ev.Kind, ev.Service, ev.Path, p)
		}
		seen[ev.SpanID.String()] = true
	}
	for _, want := range []string{"sequenceDiagram", "participant gateway", "participant bridge",
		"participant fee_calc as fee-calc", "participant payment", "participant license_printer as license-printer",
		"participant audit_log as audit-log", "bridge->>fee_calc: /calculate", "bridge->>audit_log: /record"} {
		if !strings.Contains(got.Mermaid, want) {
			t.Errorf("the diagram lacks %q:\n%s", want, got.Mermaid)
		}
	}
}
