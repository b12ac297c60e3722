package trace

import (
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// hop builds an event starting at ms milliseconds and lasting dur ms.
func hop(span, parent string, kind Kind, caller, service, path string, ms, dur int) Event {
	base := timeAt("2026-05-01T10:00:00Z")
	e := Event{TraceID: TraceID{1}, Kind: kind, Caller: caller, Service: service, Path: path, Attempt: 1,
		Start: base.Add(time.Duration(ms) * time.Millisecond), DurationUS: int64(dur) * 1000}
	e.Stop = e.Start.Add(time.Duration(dur) * time.Millisecond)
	copy(e.SpanID[:], span)
	if parent != "" {
		copy(e.ParentSpanID[:], parent)
	}
	return e
}

// licenseFlow is the bridge's view of two of the license calls: the
// gateway's request to the bridge (recorded by the bridge only), the
// bridge's attempts and the booths' handling; payment's first attempt timed
// out and was retried.
func licenseFlow() []Event {
	return []Event{
		hop("s-pay2", "c-pay2", KindServer, "bridge", "payment", "/charge", 41, 5),
		hop("c-fee", "b-fee", KindClient, "bridge", "fee-calc", "/calculate", 1, 4),
		hop("b-pay", "", KindServer, "gateway", "bridge", "/v1/call/payment/charge", 10, 40),
		hop("s-fee", "c-fee", KindServer, "bridge", "fee-calc", "/calculate", 2, 2),
		hop("c-pay1", "b-pay", KindClient, "bridge", "payment", "/charge", 11, 30),
		hop("b-fee", "", KindServer, "gateway", "bridge", "/v1/call/fee-calc/calculate", 0, 6),
		hop("c-pay2", "b-pay", KindClient, "bridge", "payment", "/charge", 40, 8),
	}
}

func TestCausalOrder(t *testing.T) {
	t.Parallel()
	events := licenseFlow()
	events = append(events, events[0]) // a duplicate delivery
	var got []string
	for _, e := range CausalOrder(events) {
		got = append(got, strings.TrimRight(string(e.SpanID[:]), "\x00"))
	}
	want := []string{"b-fee", "c-fee", "s-fee", "b-pay", "c-pay1", "c-pay2", "s-pay2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("CausalOrder = %v, want %v", got, want)
	}
}

func TestCausalOrderSurvivesCycles(t *testing.T) {
	t.Parallel()
	events := []Event{
		hop("a", "b", KindServer, "x", "y", "/p", 1, 1),
		hop("b", "a", KindServer, "x", "y", "/p", 0, 1),
		hop("c", "c", KindServer, "x", "y", "/p", 2, 1),
	}
	if got := CausalOrder(events); len(got) != 3 {
		t.Fatalf("CausalOrder kept %d of 3 events", len(got))
	}
}

func TestMermaid(t *testing.T) {
	t.Parallel()
	events := licenseFlow()
	events[6].Attempt = 2
	events[4].Code = rpc.CodeDeadlineExceeded
	want := strings.Join([]string{
		"sequenceDiagram",
		"    participant gateway",
		"    participant bridge",
		"    participant fee_calc as fee-calc",
		"    participant payment",
		"    gateway->>bridge: /v1/call/fee-calc/calculate",
		"    bridge->>fee_calc: /calculate",
		"    fee_calc-->>bridge: ok 4.0 ms",
		"    bridge-->>gateway: ok 6.0 ms",
		"    gateway->>bridge: /v1/call/payment/charge",
		"    bridge->>payment: /charge",
		"    payment-->>bridge: 504 30.0 ms",
		"    bridge->>payment: /charge (attempt 2)",
		"    payment-->>bridge: ok 8.0 ms",
		"    bridge-->>gateway: ok 40.0 ms",
		"",
	}, "\n")
	if got := Mermaid(events); got != want {
		t.Fatalf("Mermaid:\n%s\nwant:\n%s", got, want)
	}
}

func TestMermaidKeepsNamesSafe(t *testing.T) {
	t.Parallel()
	e := hop("x", "", KindServer, "", "end", "/a;b#c\nd", 0, 1)
	got := Mermaid([]Event{e})
	for _, want := range []string{"participant caller\n", "participant p_end as end\n", "caller->>p_end: /a b c d\n", "p_end-->>caller: ok 1.0 ms\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("Mermaid output lacks %q:\n%s", want, got)
		}
	}
}
