package trace_test

import (
	"fmt"
	"time"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

func ExampleParseTraceparent() {
	sc, err := trace.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	fmt.Println(sc.TraceID, sc.SpanID, sc.Flags&trace.FlagSampled != 0, err)
	_, err = trace.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")
	fmt.Println(err)
	// Output:
	// 4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7 true <nil>
	// 400: malformed traceparent: parent id is all zeros
}

// The gateway's call to the bridge, the bridge's attempt on fee-calc and
// fee-calc's handling, drawn as the seed draws the mesh.
func ExampleMermaid() {
	tid, _ := trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	gw, _ := trace.ParseSpanID("00f067aa0ba902b7")
	span := func(s string) trace.SpanID { id, _ := trace.ParseSpanID(s); return id }
	at := func(ms int) time.Time { return time.Date(2026, 5, 1, 10, 0, 0, ms*1e6, time.UTC) }
	events := []trace.Event{
		{TraceID: tid, SpanID: span("1000000000000003"), ParentSpanID: span("1000000000000002"), Kind: trace.KindServer,
			Caller: "bridge", Service: "fee-calc", Path: "/calculate", Attempt: 1, Start: at(2), Stop: at(4), DurationUS: 2000},
		{TraceID: tid, SpanID: span("1000000000000001"), ParentSpanID: gw, Kind: trace.KindServer,
			Caller: "gateway", Service: "bridge", Path: "/v1/call/fee-calc/calculate", Attempt: 1, Start: at(0), Stop: at(6), DurationUS: 6000},
		{TraceID: tid, SpanID: span("1000000000000002"), ParentSpanID: span("1000000000000001"), Kind: trace.KindClient,
			Caller: "bridge", Service: "fee-calc", Path: "/calculate", Attempt: 1, Start: at(1), Stop: at(5), DurationUS: 4000},
	}
	fmt.Print(trace.Mermaid(events))
	// Output:
	// sequenceDiagram
	//     participant gateway
	//     participant bridge
	//     participant fee_calc as fee-calc
	//     gateway->>bridge: /v1/call/fee-calc/calculate
	//     bridge->>fee_calc: /calculate
	//     fee_calc-->>bridge: ok 4.0 ms
	//     bridge-->>gateway: ok 6.0 ms
}
