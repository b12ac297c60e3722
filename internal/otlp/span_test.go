package otlp_test

import (
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/hms-svc/hms-svc/internal/otlp"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// attrs returns a span's or resource's attributes as text.
func attrs(kvs []*commonpb.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = v.IntValue
		}
	}
	return out
}

func mustID[T trace.TraceID | trace.SpanID](t *testing.T, parse func(string) (T, error), s string) T {
	t.Helper()
	id, err := parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A booth's handling is a server span of the booth's service, a caller's
// attempt a client span of the caller's, with the ids, times, attributes
// and status of the event; the spans are grouped by service and instance.
func TestSpansCarryEverythingTheEventSays(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC)
	tid := mustID(t, trace.ParseTraceID, "4bf92f3577b34da6a3ce929d0e0e4736")
	attempt := trace.Event{
		TraceID: tid, SpanID: mustID(t, trace.ParseSpanID, "00f067aa0ba902b7"), ParentSpanID: mustID(t, trace.ParseSpanID, "a000000000000001"),
		Kind: trace.KindClient, Caller: "bridge", Service: "payment", Path: "/charge", RequestID: "882ce588-95ea-4dea-a2d8-fe4a995c0619",
		Attempt: 2, Start: start, Stop: start.Add(1500 * time.Microsecond), DurationUS: 1500, Code: rpc.CodeUnavailable,
		Error: "payment /charge: no instance", Instance: "bridge-1",
	}
	handling := trace.Event{
		TraceID: tid, SpanID: mustID(t, trace.ParseSpanID, "b000000000000002"), ParentSpanID: attempt.SpanID,
		Kind: trace.KindServer, Caller: "gateway", Service: "payment", Path: "/charge", RequestID: attempt.RequestID,
		Attempt: 2, Start: start.Add(100 * time.Microsecond), Stop: start.Add(900 * time.Microsecond), DurationUS: 800, Instance: "payment-1",
	}
	req := otlp.Request([]trace.Event{handling, attempt})
	if n := len(req.GetResourceSpans()); n != 2 {
		t.Fatalf("%d resources, want 2 (bridge and payment)", n)
	}
	for i, want := range []struct {
		service, instance string
		kind              tracepb.Span_SpanKind
		ev                trace.Event
		attrs             map[string]any
		status            *tracepb.Status
	}{
		{"bridge", "bridge-1", tracepb.Span_SPAN_KIND_CLIENT, attempt, map[string]any{
			"rpc.system": "hms-svc", "rpc.service": "payment", "rpc.method": "/charge", "peer.service": "payment",
			"hms.caller": "bridge", "hms.request_id": attempt.RequestID, "hms.attempt": int64(2), "hms.code": int64(503), "hms.instance": "bridge-1",
		}, &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "payment /charge: no instance"}},
		{"payment", "payment-1", tracepb.Span_SPAN_KIND_SERVER, handling, map[string]any{
			"rpc.system": "hms-svc", "rpc.service": "payment", "rpc.method": "/charge",
			"hms.caller": "gateway", "hms.request_id": attempt.RequestID, "hms.attempt": int64(2), "hms.code": int64(0), "hms.instance": "payment-1",
		}, nil},
	} {
		rs := req.GetResourceSpans()[i]
		if got := attrs(rs.GetResource().GetAttributes()); got["service.name"] != want.service || got["service.instance.id"] != want.instance || len(got) != 2 {
			t.Errorf("resource %d = %v, want service.name %s and service.instance.id %s", i, got, want.service, want.instance)
		}
		spans := rs.GetScopeSpans()[0].GetSpans()
		if len(spans) != 1 || rs.GetScopeSpans()[0].GetScope().GetName() != otlp.ScopeName {
			t.Fatalf("resource %s: scope %v with %d spans, want 1", want.service, rs.GetScopeSpans()[0].GetScope(), len(spans))
		}
		s := spans[0]
		if string(s.GetTraceId()) != string(tid[:]) || string(s.GetSpanId()) != string(want.ev.SpanID[:]) ||
			string(s.GetParentSpanId()) != string(want.ev.ParentSpanID[:]) {
			t.Errorf("%s: ids %x %x parent %x, want the event's", want.service, s.GetTraceId(), s.GetSpanId(), s.GetParentSpanId())
		}
		if s.GetKind() != want.kind || s.GetName() != "payment /charge" {
			t.Errorf("%s: kind %v name %q, want %v \"payment /charge\"", want.service, s.GetKind(), s.GetName(), want.kind)
		}
		if s.GetStartTimeUnixNano() != uint64(want.ev.Start.UnixNano()) || s.GetEndTimeUnixNano() != uint64(want.ev.Stop.UnixNano()) {
			t.Errorf("%s: times %d..%d, want the event's", want.service, s.GetStartTimeUnixNano(), s.GetEndTimeUnixNano())
		}
		if got := attrs(s.GetAttributes()); len(got) != len(want.attrs) {
			t.Errorf("%s: attributes %v, want %v", want.service, got, want.attrs)
		} else {
			for k, v := range want.attrs {
				if got[k] != v {
					t.Errorf("%s: attribute %s = %v, want %v", want.service, k, got[k], v)
				}
			}
		}
		if want.status == nil && s.GetStatus() != nil ||
			want.status != nil && (s.GetStatus().GetCode() != want.status.Code || s.GetStatus().GetMessage() != want.status.Message) {
			t.Errorf("%s: status %v, want %v", want.service, s.GetStatus(), want.status)
		}
	}
	// A root has no parent.
	root := handling
	root.ParentSpanID = trace.SpanID{}
	if p := otlp.Span(&root).GetParentSpanId(); p != nil {
		t.Errorf("a root span has parent %x", p)
	}
}

func TestTracesURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want, wantErr string }{
		{"http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces", ""},
		{"http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces", ""},
		{"https://otel.example:4318/custom/traces", "https://otel.example:4318/custom/traces", ""},
		{"", "", "no OTLP endpoint"},
		{"127.0.0.1:4317", "", "http:// or https://"},
		{"grpc://127.0.0.1:4317", "", "http:// or https://"},
		{"http:///v1/traces", "", "no host"},
		{"http://127.0.0.1:4318/?x=1", "", "no query"},
	} {
		got, err := otlp.TracesURL(tt.in)
		if tt.wantErr == "" && (err != nil || got != tt.want) || tt.wantErr != "" && (err == nil || !contains(err.Error(), tt.wantErr)) {
			t.Errorf("TracesURL(%q) = %q, %v; want %q or an error naming %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
