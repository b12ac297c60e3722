package trace

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

type printReq struct {
	Name string `json:"name"`
}

type printRes struct {
	ID string `json:"id"`
}

type recordReq struct {
	DocID string `json:"doc_id"`
}

type recordRes struct {
	Seq int `json:"seq"`
}

// chain is a caller ("gateway") and two booths, license-printer and
// audit-log, each on its own connection with its own publisher.
// license-printer's handler calls audit-log through a client that has
// ClientMiddleware; the handler itself has no tracing code.
type chain struct {
	gateway               *rpc.Client
	pubGW, pubLic, pubAud *Publisher
	booths                []*rpc.Booth
}

func startChain(t *testing.T, srv *server.Server, emit func(name string, nc *nats.Conn) Emitter, opts ...nats.Option) *chain {
	t.Helper()
	c := &chain{}
	ncGW, ncLic, ncAud := natstest.Connect(t, srv, opts...), natstest.Connect(t, srv, opts...), natstest.Connect(t, srv, opts...)
	emGW, emLic, emAud := emit("gateway", ncGW), emit("license-printer", ncLic), emit("audit-log", ncAud)
	c.pubGW, _ = emGW.(*Publisher)
	c.pubLic, _ = emLic.(*Publisher)
	c.pubAud, _ = emAud.(*Publisher)

	audit, err := rpc.NewBooth(ncAud, rpc.BoothConfig{Name: "audit-log"},
		rpc.WithBoothMiddleware(ServerMiddleware(emAud, "audit-log-1")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = audit.Stop(context.Background()) })
	c.booths = append(c.booths, audit)
	if err := rpc.Handle(audit, "/record", func(ctx context.Context, req *recordReq) (*recordRes, error) {
		if req.DocID == "missing" {
			return nil, rpc.Errorf(rpc.CodeNotFound, "no document %q for 123-45-6789", req.DocID)
		}
		return &recordRes{Seq: 7}, nil
	}); err != nil {
		t.Fatal(err)
	}

	toAudit, err := rpc.NewClient(ncLic, rpc.WithCaller("license-printer"), rpc.WithoutBreaker(),
		rpc.WithAttemptMiddleware(ClientMiddleware(emLic, "license-printer")))
	if err != nil {
		t.Fatal(err)
	}
	printer, err := rpc.NewBooth(ncLic, rpc.BoothConfig{Name: "license-printer"},
		rpc.WithBoothMiddleware(ServerMiddleware(emLic, "license-printer-1")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = printer.Stop(context.Background()) })
	c.booths = append(c.booths, printer)
	if err := rpc.Handle(printer, "/generate", func(ctx context.Context, req *printReq) (*printRes, error) {
		var rec recordRes
		if err := toAudit.Call(ctx, "audit-log", "/record", recordReq{DocID: req.Name}, &rec); err != nil {
			return nil, err
		}
		return &printRes{ID: fmt.Sprint("doc-", rec.Seq)}, nil
	}); err != nil {
		t.Fatal(err)
	}

	// Make sure the server knows both booths before anyone calls them.
	for _, nc := range []*nats.Conn{ncLic, ncAud} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// No circuit breakers: the restart test wants calls to resume at once.
	c.gateway, err = rpc.NewClient(ncGW, rpc.WithCaller("gateway"), rpc.WithoutBreaker(),
		rpc.WithAttemptMiddleware(ClientMiddleware(emGW, "gateway")))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stopBooths stops the booths while the server still runs.
func (c *chain) stopBooths(t *testing.T) {
	for _, b := range c.booths {
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("stopping %s: %v", b.Name(), err)
		}
	}
}

func publishers(t *testing.T) func(string, *nats.Conn) Emitter {
	return func(name string, nc *nats.Conn) Emitter { return newPublisher(t, nc, name) }
}

func TestChainIsOneTraceWithExactHops(t *testing.T) {
	srv, js := startJS(t)
	c := startChain(t, srv, publishers(t))
	live := &recorder{}
	followCtx, stopFollow := context.WithCancel(context.Background())
	defer stopFollow()
	go func() { _ = Follow(followCtx, js, time.Time{}, func(ev Event) error { live.Emit(ev); return nil }) }()
	ctx := context.Background()
	// Follow from "now" sees only what is published after it started: wait
	// until it is running by publishing a probe trace first.
	probe := newPublisher(t, natstest.Connect(t, srv), "probe")
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		probe.Emit(Event{TraceID: newTraceID(time.Now()), SpanID: newSpanID(), Kind: KindServer,
			Service: "probe", Path: "/p", Start: time.Now(), Stop: time.Now()})
		if len(live.all()) == 0 {
			return fmt.Errorf("Follow has seen nothing yet")
		}
		return nil
	})

	gatewaySpan := SpanContext{TraceID: newTraceID(time.Now()), SpanID: newSpanID(), Flags: FlagSampled, State: "gw=1"}
	var res printRes
	if err := c.gateway.Call(ContextWithSpan(ctx, gatewaySpan), "license-printer", "/generate", printReq{Name: "Avery Johnson"}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ID != "doc-7" {
		t.Fatalf("reply %+v, want doc-7", res)
	}
	closePublishers(t, c.pubGW, c.pubLic, c.pubAud)

	got, err := Get(ctx, js, gatewaySpan.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind                  Kind
		caller, service, path string
		instance              string
	}{
		{KindClient, "gateway", "license-printer", "/generate", ""},
		{KindServer, "gateway", "license-printer", "/generate", "license-printer-1"},
		{KindClient, "license-printer", "audit-log", "/record", ""},
		{KindServer, "license-printer", "audit-log", "/record", "audit-log-1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d hops, want %d: %+v", len(got), len(want), got)
	}
	parent := gatewaySpan.SpanID
	for i, w := range want {
		e := got[i]
		if e.Kind != w.kind || e.Caller != w.caller || e.Service != w.service || e.Path != w.path || e.Instance != w.instance {
			t.Errorf("hop %d = %s %s->%s %s (%q), want %s %s->%s %s (%q)", i, e.Kind, e.Caller, e.Service, e.Path, e.Instance,
				w.kind, w.caller, w.service, w.path, w.instance)
		}
		if e.TraceID != gatewaySpan.TraceID {
			t.Errorf("hop %d trace %s, want %s", i, e.TraceID, gatewaySpan.TraceID)
		}
		if e.ParentSpanID != parent {
			t.Errorf("hop %d parent %s, want %s (the previous hop)", i, e.ParentSpanID, parent)
		}
		parent = e.SpanID
		if e.Code != 0 || e.Error != "" || e.Attempt != 1 || e.RequestID == "" {
			t.Errorf("hop %d: code %d error %q attempt %d request id %q; want a first, successful attempt with an id", i, e.Code, e.Error, e.Attempt, e.RequestID)
		}
		if wall := e.Stop.Sub(e.Start); wall < 0 || e.Duration() < 0 || (e.Duration()-wall).Abs() > time.Millisecond {
			t.Errorf("hop %d: start %v stop %v duration %v inconsistent", i, e.Start, e.Stop, e.Duration())
		}
	}
	if got[0].RequestID != got[1].RequestID || got[2].RequestID != got[3].RequestID || got[0].RequestID == got[2].RequestID {
		t.Errorf("request ids %s %s %s %s: want one per call, shared by its two sides", got[0].RequestID, got[1].RequestID, got[2].RequestID, got[3].RequestID)
	}
	// Causal order of the timestamps: each hop starts after its parent
	// starts and stops before its parent stops.
	for i := 1; i < len(got); i++ {
		if got[i].Start.Before(got[i-1].Start) || got[i].Stop.After(got[i-1].Stop) {
			t.Errorf("hop %d [%v, %v] is not inside hop %d [%v, %v]", i, got[i].Start, got[i].Stop, i-1, got[i-1].Start, got[i-1].Stop)
		}
	}

	wantDiagram := strings.Join([]string{
		"sequenceDiagram",
		"    participant gateway",
		"    participant license_printer as license-printer",
		"    participant audit_log as audit-log",
		"    gateway->>license_printer: /generate",
		"    license_printer->>audit_log: /record",
		"    audit_log-->>license_printer: " + result(&got[2]),
		"    license_printer-->>gateway: " + result(&got[0]),
		"",
	}, "\n")
	if diagram := Mermaid(got); diagram != wantDiagram {
		t.Errorf("Mermaid:\n%s\nwant:\n%s", diagram, wantDiagram)
	}

	// Follow delivered the same four hops live.
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		n := 0
		for _, e := range live.all() {
			if e.TraceID == gatewaySpan.TraceID {
				n++
			}
		}
		if n != 4 {
			return fmt.Errorf("Follow delivered %d hops of the trace, want 4", n)
		}
		return nil
	})
}

func TestTracestateTravelsAndErrorsAreRecorded(t *testing.T) {
	srv := natstest.Start(t)
	rec := &recorder{}
	c := startChain(t, srv, func(string, *nats.Conn) Emitter { return rec })
	root := SpanContext{TraceID: newTraceID(time.Now()), SpanID: newSpanID(), Flags: FlagSampled, State: "gw=1"}
	err := c.gateway.Call(ContextWithSpan(context.Background(), root), "license-printer", "/generate", printReq{Name: "missing"}, nil)
	if rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatalf("call error %v, want 404", err)
	}
	got := CausalOrder(rec.all())
	if len(got) != 4 {
		t.Fatalf("got %d hops, want 4: %+v", len(got), got)
	}
	for i, e := range got {
		if e.Code != rpc.CodeNotFound {
			t.Errorf("hop %d code %d, want 404", i, e.Code)
		}
		if !strings.Contains(e.Error, `no document "missing" for ***-**-6789`) || strings.Contains(e.Error, "123-45") {
			t.Errorf("hop %d error %q: want the booth's message with the SSN masked", i, e.Error)
		}
	}
}

func TestRetriedCallSharesOneTrace(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	rec := &recorder{}
	client, err := rpc.NewClient(natstest.Connect(t, srv), rpc.WithRetries(2, time.Millisecond),
		rpc.WithAttemptMiddleware(ClientMiddleware(rec, "gateway")))
	if err != nil {
		t.Fatal(err)
	}
	// No instance of fee-calc runs: three attempts, each refused.
	err = client.Call(context.Background(), "fee-calc", "/calculate", map[string]string{}, nil)
	if rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Fatalf("call error %v, want 503", err)
	}
	got := rec.all()
	if len(got) != 3 {
		t.Fatalf("got %d events, want one per attempt (3): %+v", len(got), got)
	}
	for i, e := range got {
		if e.Kind != KindClient || e.Attempt != i+1 || e.Code != rpc.CodeUnavailable || !e.ParentSpanID.IsZero() {
			t.Errorf("event %d: %s attempt %d code %d parent %s; want client attempt %d, 503, no parent", i, e.Kind, e.Attempt, e.Code, e.ParentSpanID, i+1)
		}
		if e.TraceID != got[0].TraceID || e.RequestID != got[0].RequestID {
			t.Errorf("attempt %d in trace %s (request %s), want the first's %s (%s)", i+1, e.TraceID, e.RequestID, got[0].TraceID, got[0].RequestID)
		}
		if e.Error == "" {
			t.Errorf("attempt %d has no error text", i+1)
		}
	}
	if got[0].SpanID == got[1].SpanID {
		t.Error("two attempts share a span id")
	}
	if want := strings.ReplaceAll(got[0].RequestID, "-", ""); got[0].TraceID.String() != want {
		t.Errorf("trace id %s, want the request id's bytes %s", got[0].TraceID, want)
	}
}

func TestBoothTracesPanicsAndToleratesBadTraceparent(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	rec := &recorder{}
	nc := natstest.Connect(t, srv)
	booth, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: "fee-calc"}, rpc.WithLogger(slog.New(slog.DiscardHandler)),
		rpc.WithBoothMiddleware(ServerMiddleware(rec, "fee-calc-1")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = booth.Stop(context.Background()) })
	var seen SpanContext
	_ = rpc.Handle(booth, "/calculate", func(ctx context.Context, req *map[string]string) (*map[string]int, error) {
		seen, _ = SpanFromContext(ctx)
		if (*req)["panic"] != "" {
			panic("boom")
		}
		return &map[string]int{"amount": 125}, nil
	})
	client, _ := rpc.NewClient(nc, rpc.WithCaller("gateway"))

	// A malformed traceparent starts a new trace; the call is served.
	hdr := nats.Header{}
	hdr.Set(rpc.HeaderTraceparent, "00-not-a-traceparent")
	hdr.Set(rpc.HeaderTracestate, "a=1")
	if _, err := client.Invoke(context.Background(), "fee-calc", "/calculate", hdr, []byte(`{}`)); err != nil {
		t.Fatalf("call with a bad traceparent failed: %v", err)
	}
	// A panic is recorded as the booth's 500.
	_, err = client.Invoke(context.Background(), "fee-calc", "/calculate", nil, []byte(`{"panic":"1"}`))
	if rpc.CodeOf(err) != rpc.CodeInternal {
		t.Fatalf("panicking call: %v, want 500", err)
	}
	got := rec.all()
	if len(got) != 2 {
		t.Fatalf("got %d events, want 2", len(got))
	}
	if e := got[0]; !e.ParentSpanID.IsZero() || e.TraceID.IsZero() || e.Code != 0 || e.Caller != "gateway" || e.Instance != "fee-calc-1" {
		t.Errorf("bad traceparent: event %+v; want a new root trace, code 0, caller gateway", e)
	}
	if seen.State != "" || seen.TraceID != got[1].TraceID {
		t.Errorf("handler saw span %+v; want the server span, without the tracestate of a bad traceparent", seen)
	}
	if e := got[1]; e.Code != rpc.CodeInternal || e.Error != "internal error in fee-calc /calculate" {
		t.Errorf("panic: code %d error %q; want 500 and the booth's generic message", e.Code, e.Error)
	}
}

func TestStartSpanForTheBridge(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ctx, span := StartSpan(context.Background(), rec, Hop{Caller: "gateway", Service: "bridge",
		Path: "/v1/call/fee-calc/calculate", Traceparent: validTP, Tracestate: "gw=1", Instance: "bridge-1"})
	sc, ok := SpanFromContext(ctx)
	if !ok || sc != span.Context() || sc.State != "gw=1" {
		t.Fatalf("ctx span %+v, want the new span carrying the tracestate", sc)
	}
	if got, want := span.TraceID().String(), "4bf92f3577b34da6a3ce929d0e0e4736"; got != want {
		t.Errorf("trace id %s, want the gateway's %s", got, want)
	}
	span.End(rpc.Errorf(rpc.CodeTooManyRequests, "slow down"))
	span.End(nil) // ignored
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("got %d events, want 1", len(got))
	}
	if e := got[0]; e.Kind != KindServer || e.ParentSpanID.String() != "00f067aa0ba902b7" || e.Code != 429 || e.Error != "slow down" || e.Attempt != 1 {
		t.Errorf("event %+v: want a server hop under the gateway's span with code 429", e)
	}
	// Without a valid traceparent the span in ctx is the parent; without
	// one either, a new trace starts.
	_, child := StartSpan(ctx, nil, Hop{Traceparent: "garbage"})
	if child.TraceID() != span.TraceID() {
		t.Errorf("child trace %s, want the ctx span's %s", child.TraceID(), span.TraceID())
	}
	_, root := StartSpan(context.Background(), nil, Hop{})
	if root.TraceID().IsZero() || root.TraceID() == span.TraceID() {
		t.Errorf("root trace %s: want a new trace", root.TraceID())
	}
}
