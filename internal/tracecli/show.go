package tracecli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Show writes trace id's hops and its Mermaid diagram:
//
//	trace 4bf92f3577b34da6a3ce929d0e0e4736: 9 events, 1.1ms, from 2026-05-01T10:00:00.000Z
//	  +0s      server  - -> gateway /apply                ok  1.1ms  gateway-1
//	  +30µs      client  gateway -> fee-calc /calculate   ok  285µs
//	  ...
//
//	sequenceDiagram
//	    ...
//
// Each hop is offset from the trace's first start and indented under the
// hop that caused it. Only the events trace.Get returns are shown (opts:
// trace.WithScreen to count the others). A malformed id is CodeBadRequest;
// a trace with no stored event is CodeNotFound.
func Show(ctx context.Context, js jetstream.JetStream, id string, w io.Writer, opts ...trace.ReadOption) error {
	tid, err := trace.ParseTraceID(strings.TrimSpace(id))
	if err != nil {
		return rpc.Errorf(rpc.CodeBadRequest, "trace id %q: %v", id, err)
	}
	events, err := trace.Get(ctx, js, tid, opts...)
	if err != nil {
		return err
	}
	return WriteTrace(w, tid, events)
}

// WriteTrace writes what Show prints for events of trace id.
func WriteTrace(w io.Writer, id trace.TraceID, events []trace.Event) error {
	events = trace.CausalOrder(events)
	if len(events) == 0 {
		return rpc.Errorf(rpc.CodeNotFound, "trace %s: no event", id)
	}
	first, last := events[0].Start, events[0].Stop
	for _, ev := range events {
		if ev.Start.Before(first) {
			first = ev.Start
		}
		if ev.Stop.After(last) {
			last = ev.Stop
		}
	}
	failed := 0
	for _, ev := range events {
		if ev.Code != 0 {
			failed++
		}
	}
	status := "ok"
	if failed > 0 {
		status = fmt.Sprintf("%d failed", failed)
	}
	fmt.Fprintf(w, "trace %s: %d events, %s, %s, from %s\n", id, len(events), Duration(last.Sub(first)), status, first.UTC().Format(TimeFormat))

	depth := depths(events)
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	for _, ev := range events {
		indent := strings.Repeat("  ", depth[ev.SpanID])
		fmt.Fprintf(tw, "  +%s\t%s%s %s -> %s %s\t%s\t%s\t%s", Duration(ev.Start.Sub(first)), indent, ev.Kind,
			caller(ev), ev.Service, ev.Path, code(ev), Duration(ev.Duration()), ev.Instance)
		if ev.Attempt > 1 {
			fmt.Fprintf(tw, " attempt=%d", ev.Attempt)
		}
		if ev.Error != "" {
			fmt.Fprintf(tw, " error=%q", ev.Error)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		if line != "" {
			fmt.Fprintln(w, strings.TrimRight(line, " \n"))
		}
	}
	_, err := fmt.Fprintf(w, "\n%s", trace.Mermaid(events))
	return err
}

// depths returns how many ancestors each event has among events.
func depths(events []trace.Event) map[trace.SpanID]int {
	parent := make(map[trace.SpanID]trace.SpanID, len(events))
	for _, ev := range events {
		parent[ev.SpanID] = ev.ParentSpanID
	}
	out := make(map[trace.SpanID]int, len(events))
	for _, ev := range events {
		d, p := 0, ev.ParentSpanID
		for seen := 0; seen < len(events); seen++ { // bounded: forged cycles
			if _, ok := parent[p]; !ok || p.IsZero() {
				break
			}
			d, p = d+1, parent[p]
		}
		out[ev.SpanID] = d
	}
	return out
}
