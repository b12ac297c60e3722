package ui_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{"", time.Time{}, ""},
		{"5m", now.Add(-5 * time.Minute), ""},
		{" 90s ", now.Add(-90 * time.Second), ""},
		{"2026-05-01T09:30:00Z", now.Add(-30 * time.Minute), ""},
		{"-5m", time.Time{}, "negative"},
		{"25h", time.Time{}, "more than"},
		{"2026-05-01T11:00:00Z", time.Time{}, "future"},
		{"yesterday", time.Time{}, "duration such as 5m"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ui.ParseSince(tt.in, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || rpc.CodeOf(err) != rpc.CodeBadRequest {
					t.Fatalf("ParseSince(%q) = %v, %v; want a 400 naming %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("ParseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNewTraceOrdersAndDraws(t *testing.T) {
	tid, _ := trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	span := func(s string) trace.SpanID { id, _ := trace.ParseSpanID(s); return id }
	at := func(ms int) time.Time { return time.Date(2026, 5, 1, 10, 0, 0, ms*1e6, time.UTC) }
	events := []trace.Event{ // the booth's handling first, as it is often stored
		{TraceID: tid, SpanID: span("1000000000000002"), ParentSpanID: span("1000000000000001"), Kind: trace.KindServer,
			Caller: "gateway", Service: "fee-calc", Path: "/calculate", Attempt: 1, Start: at(1), Stop: at(2), DurationUS: 1000},
		{TraceID: tid, SpanID: span("1000000000000001"), Kind: trace.KindClient,
			Caller: "gateway", Service: "fee-calc", Path: "/calculate", Attempt: 1, Start: at(0), Stop: at(3), DurationUS: 3000},
	}
	got := ui.NewTrace(tid, events)
	if got.TraceID != tid.String() || len(got.Events) != 2 || got.Events[0].Kind != trace.KindClient {
		t.Fatalf("NewTrace = %+v, want the client attempt first", got)
	}
	if !strings.Contains(got.Mermaid, "gateway->>fee_calc: /calculate") {
		t.Errorf("Mermaid = %q, want the call drawn", got.Mermaid)
	}
	data, err := json.Marshal(ui.NewTrace(tid, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"events":[]`) {
		t.Errorf("an empty trace encodes as %s, want an empty events list", data)
	}
}
