package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func sampleEvents() []Event {
	tid, _ := ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	a, _ := ParseSpanID("00f067aa0ba902b7")
	b, _ := ParseSpanID("1111111111111111")
	return []Event{
		{
			TraceID: tid, SpanID: a, Kind: KindClient, Caller: "gateway", Service: "fee-calc",
			Path: "/calculate", RequestID: "0b9f5e0c-8d1a-4a47-9d55-3f1f3f0e6a01", Attempt: 1,
			Start: timeAt("2026-05-01T10:00:00.000001Z"), Stop: timeAt("2026-05-01T10:00:00.0025Z"),
			DurationUS: 2499,
		},
		{
			TraceID: tid, SpanID: b, ParentSpanID: a, Kind: KindServer, Caller: "gateway",
			Service: "fee-calc", Path: "/calculate", Attempt: 2,
			Start: timeAt("2026-05-01T10:00:00.001Z"), Stop: timeAt("2026-05-01T10:00:00.002Z"),
			DurationUS: 1000, Code: rpc.CodeNotFound, Error: `no fee for "astro<naut>" & café`,
			Instance: "fee-calc-1\n",
		},
	}
}

// The hand-written encoder writes exactly what encoding/json would.
func TestAppendBatchMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	events := sampleEvents()
	got := appendBatch(nil, events)
	want, err := json.Marshal(batch{V: BatchVersion, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendBatch:\n got %s\nwant %s", got, want)
	}
	back, err := DecodeBatch(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || !sameEvent(back[0], events[0]) || !sameEvent(back[1], events[1]) {
		t.Fatalf("round trip: got %+v, want %+v", back, events)
	}
}

func TestEventJSONFieldNames(t *testing.T) {
	t.Parallel()
	data := appendBatch(nil, sampleEvents()[1:])
	var raw struct {
		V      int              `json:"v"`
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "1111111111111111",
		"parent_span_id": "00f067aa0ba902b7", "kind": "server", "caller": "gateway",
		"service": "fee-calc", "path": "/calculate", "attempt": 2.0,
		"start": "2026-05-01T10:00:00.001Z", "stop": "2026-05-01T10:00:00.002Z",
		"duration_us": 1000.0, "code": 404.0, "error": `no fee for "astro<naut>" & café`,
		"instance": "fee-calc-1\n",
	}
	got := raw.Events[0]
	if raw.V != 1 || len(got) != len(want) {
		t.Fatalf("v=%d, fields %v; want v=1 and %d fields", raw.V, got, len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("field %s = %#v, want %#v", k, got[k], w)
		}
	}
}

func TestDecodeBatchRejects(t *testing.T) {
	t.Parallel()
	ok := string(appendBatch(nil, sampleEvents()[:1]))
	tests := []struct{ name, in, want string }{
		{"not JSON", "{", "malformed trace event"},
		{"wrong version", strings.Replace(ok, `"v":1`, `"v":2`, 1), "batch version 2"},
		{"bad trace id", strings.Replace(ok, "4bf92f", "XBF92F", 1), "trace id"},
		{"missing span id", strings.Replace(ok, `"span_id":"00f067aa0ba902b7",`, "", 1), "span_id is missing"},
		{"bad kind", strings.Replace(ok, `"client"`, `"proxy"`, 1), `kind must be "client" or "server"`},
		{"missing service", strings.Replace(ok, `"service":"fee-calc",`, "", 1), "service is missing"},
		{"stop before start", strings.Replace(ok, `"stop":"2026-05-01T10:00:00.0025Z"`, `"stop":"2026-05-01T09:00:00Z"`, 1), "stop is before start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBatch([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeBatch(%s) = %v, want error saying %q", tt.in, err, tt.want)
			}
			if !errors.Is(err, ErrEvent) && !errors.Is(err, ErrHex) {
				t.Errorf("error %v wraps neither ErrEvent nor ErrHex", err)
			}
		})
	}
}

func sameEvent(a, b Event) bool {
	return a.TraceID == b.TraceID && a.SpanID == b.SpanID && a.ParentSpanID == b.ParentSpanID &&
		a.Kind == b.Kind && a.Caller == b.Caller && a.Service == b.Service && a.Path == b.Path &&
		a.RequestID == b.RequestID && a.Attempt == b.Attempt && a.Start.Equal(b.Start) &&
		a.Stop.Equal(b.Stop) && a.DurationUS == b.DurationUS && a.Code == b.Code &&
		a.Error == b.Error && a.Instance == b.Instance
}
