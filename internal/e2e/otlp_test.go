package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hms-svc/hms-svc/internal/bridge/app"
	"github.com/hms-svc/hms-svc/internal/jaegertest"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/promtest"
)

// jaegerTrace reads trace id from Jaeger until it holds want spans.
func jaegerTrace(t *testing.T, j *jaegertest.Jaeger, id string, want int) *jaegertest.Trace {
	t.Helper()
	var got *jaegertest.Trace
	natstest.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		tr, err := j.Trace(t.Context(), id)
		if err != nil {
			return err
		}
		got = tr
		if len(tr.Spans) != want {
			var spans []string
			for _, s := range tr.Spans {
				spans = append(spans, tr.Service(&s)+": "+s.OperationName+" "+s.Tag("span.kind"))
			}
			return fmt.Errorf("Jaeger holds %d spans of trace %s, want %d:\n%s", len(tr.Spans), id, want, strings.Join(spans, "\n"))
		}
		return nil
	})
	return got
}

// With --otlp-endpoint the bridge sends every span of Avery's license to a
// real Jaeger: read back from Jaeger's query API, the trace has the bridge
// and the four booths as services, each call's three spans linked as in
// SVC_TRACE (the bridge's handling, child of the gateway's span; its
// attempt; the booth's handling), with kinds, attributes and the booth's
// instance. A refused call's spans carry the error status and message.
// The bridge counts every span exported and none failed.
func TestAverysTraceInJaeger(t *testing.T) {
	j := jaegertest.Start(t)
	m := startBridge(t, func(c *app.Config) { c.OTLPEndpoint = j.OTLPURL })
	m.startBooths(t)
	const traceID = "5a1e0d3c9b2f4e6a8c7d1b0f2e3a4c5d"
	gwSpans := runAvery(t, m, traceID)
	got := jaegerTrace(t, j, traceID, 3*len(averyCalls))

	var services []string
	for _, p := range got.Processes {
		services = append(services, p.ServiceName)
	}
	slices.Sort(services)
	services = slices.Compact(services)
	if want := []string{"audit-log", "bridge", "fee-calc", "license-printer", "payment"}; !slices.Equal(services, want) {
		t.Errorf("services in Jaeger %v, want %v", services, want)
	}
	byParent := map[string][]*jaegertest.Span{}
	for i := range got.Spans {
		s := &got.Spans[i]
		byParent[s.Parent()] = append(byParent[s.Parent()], s)
	}
	only := func(what, parent string) *jaegertest.Span {
		t.Helper()
		kids := byParent[parent]
		if len(kids) != 1 {
			t.Fatalf("%s: %d children of span %s in Jaeger, want 1", what, len(kids), parent)
		}
		return kids[0]
	}
	type view struct{ service, name, kind, method, caller, attempt, code, status string }
	see := func(s *jaegertest.Span) view {
		return view{got.Service(s), s.OperationName, s.Tag("span.kind"), s.Tag("rpc.method"), s.Tag("hms.caller"),
			s.Tag("hms.attempt"), s.Tag("hms.code"), s.Tag("otel.status_code")}
	}
	for i, c := range averyCalls {
		what := c.service + " " + c.path
		handling := only(what+": the bridge's handling", gwSpans[i])
		attempt := only(what+": the bridge's attempt", handling.SpanID)
		booth := only(what+": the booth's handling", attempt.SpanID)
		for _, ck := range []struct {
			name      string
			got, want view
		}{
			{"bridge handling", see(handling), view{"bridge", "bridge /v1/call/" + c.service + c.path, "server", "/v1/call/" + c.service + c.path, "gateway", "1", "0", ""}},
			{"bridge attempt", see(attempt), view{"bridge", c.service + " " + c.path, "client", c.path, "bridge", "1", "0", ""}},
			{"booth handling", see(booth), view{c.service, c.service + " " + c.path, "server", c.path, "gateway", "1", "0", ""}},
		} {
			if ck.got != ck.want {
				t.Errorf("%s: %s in Jaeger is %+v, want %+v", what, ck.name, ck.got, ck.want)
			}
		}
		rid := handling.Tag("hms.request_id")
		if _, err := uuid.Parse(rid); err != nil || attempt.Tag("hms.request_id") != rid || booth.Tag("hms.request_id") != rid {
			t.Errorf("%s: request ids %q %q %q, want one UUID", what, rid, attempt.Tag("hms.request_id"), booth.Tag("hms.request_id"))
		}
		if inst := got.ProcessTag(booth, "service.instance.id"); inst != "e2e-1" || booth.Tag("hms.instance") != "e2e-1" {
			t.Errorf("%s: the booth's instance in Jaeger %q (tag %q), want e2e-1", what, inst, booth.Tag("hms.instance"))
		}
		if attempt.Tag("peer.service") != c.service {
			t.Errorf("%s: the attempt's peer.service %q, want %s", what, attempt.Tag("peer.service"), c.service)
		}
		if booth.StartTime < attempt.StartTime || booth.StartTime+booth.Duration > attempt.StartTime+attempt.Duration {
			t.Errorf("%s: the booth's handling is not within the attempt in Jaeger", what)
		}
	}

	// A refused application: error status with the booth's message.
	const badTrace = "5a1e0d3c9b2f4e6a8c7d1b0f2e3a4c5e"
	gw := httpsClient(t, certOf(t, dir, "gateway"))
	res := mustDo(t, gw, "POST", m.url+"/v1/call/fee-calc/calculate", `{"name":"Blake Doe","license_type":"astronaut"}`,
		"Content-Type: application/json", "Idempotency-Key: "+uuid.NewString(), "traceparent: 00-"+badTrace+"-00000000000000b1-01")
	if res.status != 400 {
		t.Fatalf("an unknown license type: %d %s, want 400", res.status, res.body)
	}
	bad := jaegerTrace(t, j, badTrace, 3)
	for i := range bad.Spans {
		s := &bad.Spans[i]
		if s.Tag("otel.status_code") != "ERROR" || s.Tag("error") != "true" || s.Tag("hms.code") != "400" ||
			!strings.Contains(s.Tag("otel.status_description"), "unknown license type") {
			t.Errorf("%s %s of the refused call: status %q error %q code %q message %q; want ERROR, true, 400 and the booth's message",
				bad.Service(s), s.OperationName, s.Tag("otel.status_code"), s.Tag("error"), s.Tag("hms.code"), s.Tag("otel.status_description"))
		}
	}

	body := scrape(t, m.monitor+"/metrics")
	promtest.Check(t, "bridge", body)
	metrics := string(body)
	for _, line := range []string{
		fmt.Sprintf("hms_svc_otlp_spans_exported_total %d", 3*len(averyCalls)+3),
		`hms_svc_otlp_spans_failed_total{reason="failed"} 0`,
		`hms_svc_otlp_spans_failed_total{reason="rejected"} 0`,
		"hms_svc_otlp_spans_pending 0",
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("the bridge's /metrics lack %q", line)
		}
	}
}
