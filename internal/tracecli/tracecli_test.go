package tracecli_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/tracecli"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// flow is a gateway that calls fee-calc, which calls payment from its
// handler: five hops of one trace, published to a real SVC_TRACE stream.
type flow struct {
	js    jetstream.JetStream
	gw    *rpc.Client
	gwPub *trace.Publisher
}

type amount struct {
	Amount int `json:"amount"`
}

func startFlow(t *testing.T) *flow {
	t.Helper()
	srv := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := trace.EnsureStream(ctx, js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	node := func(identity string) (*trace.Publisher, *rpc.Client, *rpc.Booth) {
		nc := natstest.Connect(t, srv)
		pub, err := trace.NewPublisher(nc, identity, trace.WithBatching(100, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pub.Close(context.Background()) })
		client, err := rpc.NewClient(nc, rpc.WithCaller(identity), rpc.WithAttemptMiddleware(trace.ClientMiddleware(pub, identity)))
		if err != nil {
			t.Fatal(err)
		}
		if identity == "gateway" {
			return pub, client, nil
		}
		b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: identity, Version: "1.0.0"},
			rpc.WithBoothMiddleware(trace.ServerMiddleware(pub, identity+"-1")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Stop(context.Background()) })
		return pub, client, b
	}
	f := &flow{js: js}
	f.gwPub, f.gw, _ = node("gateway")
	_, feeClient, fee := node("fee-calc")
	_, _, pay := node("payment")
	if err := rpc.Handle(pay, "/charge", func(ctx context.Context, req *amount) (*amount, error) {
		if req.Amount <= 0 {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "amount must be > 0")
		}
		return req, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := rpc.Handle(fee, "/calculate", func(ctx context.Context, req *amount) (*amount, error) {
		var res amount
		return &res, feeClient.Call(ctx, "payment", "/charge", req, &res)
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// run makes one traced call and returns its trace id.
func (f *flow) run(ctx context.Context, amt int) (trace.TraceID, error) {
	ctx, span := trace.StartSpan(ctx, f.gwPub, trace.Hop{Service: "gateway", Path: "/apply", Instance: "gateway-1"})
	err := f.gw.Call(ctx, "fee-calc", "/calculate", amount{Amount: amt}, nil)
	span.End(err)
	return span.TraceID(), err
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestShowPrintsHopsInCausalOrderAndMermaid(t *testing.T) {
	f := startFlow(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id, err := f.run(ctx, 125)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		var b bytes.Buffer
		if err := tracecli.Show(ctx, f.js, id.String(), &b); err != nil {
			return err
		}
		out = b.String()
		if !strings.Contains(out, ": 5 events,") {
			return fmt.Errorf("not every hop stored yet:\n%s", out)
		}
		return nil
	})
	t.Logf("Show prints:\n%s", out)
	lines := strings.Split(out, "\n")
	if want := fmt.Sprintf("trace %s: 5 events, ", id); !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], ", ok, from ") {
		t.Errorf("heading %q, want %q... ok", lines[0], want)
	}
	// The hops' column starts where the first (the root) hop's kind does;
	// each level of depth indents by two spaces.
	hop := regexp.MustCompile(`^  \+\S+ +(client|server) (\S+) -> (\S+) (\S+) +(\S+) +\S+`)
	column := strings.Index(lines[1], "server")
	want := []string{
		"0 server - -> gateway /apply ok",
		"1 client gateway -> fee-calc /calculate ok",
		"2 server gateway -> fee-calc /calculate ok",
		"3 client fee-calc -> payment /charge ok",
		"4 server fee-calc -> payment /charge ok",
	}
	for i, w := range want {
		m := hop.FindStringSubmatch(lines[1+i])
		if m == nil {
			t.Fatalf("line %d %q is not a hop:\n%s", i+1, lines[1+i], out)
		}
		depth := (strings.Index(lines[1+i], m[1]+" "+m[2]+" ->") - column) / 2
		got := fmt.Sprintf("%d %s %s -> %s %s %s", depth, m[1], m[2], m[3], m[4], m[5])
		if got != w {
			t.Errorf("hop %d = %q, want %q (depth kind caller -> service path code)", i, got, w)
		}
	}
	if !strings.Contains(out, "\nsequenceDiagram\n") || !strings.Contains(out, "fee_calc->>payment: /charge") ||
		!strings.Contains(out, "gateway->>fee_calc: /calculate") {
		t.Errorf("no Mermaid diagram of the flow:\n%s", out)
	}
}

func TestShowRefusesBadAndUnknownIDs(t *testing.T) {
	f := startFlow(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := f.run(ctx, 1); err != nil { // the stream holds something
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want rpc.Code
	}{
		{"not-a-trace", rpc.CodeBadRequest},
		{"00000000000000000000000000000000", rpc.CodeBadRequest},
		{"4bf92f3577b34da6a3ce929d0e0e4736", rpc.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			var b bytes.Buffer
			err := tracecli.Show(ctx, f.js, tt.id, &b)
			if rpc.CodeOf(err) != tt.want || b.Len() != 0 {
				t.Errorf("Show(%q) = %v printing %q, want code %d and nothing printed", tt.id, err, b.String(), tt.want)
			}
		})
	}
}

func TestTailPrintsEvents(t *testing.T) {
	f := startFlow(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("from a past time, until count", func(t *testing.T) {
		since := time.Now()
		id, err := f.run(ctx, 0) // payment refuses: a failed flow
		if rpc.CodeOf(err) != rpc.CodeBadRequest {
			t.Fatalf("flow with amount 0: %v, want 400", err)
		}
		var b syncBuffer
		if err := tracecli.Tail(ctx, f.js, since, 5, &b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("Tail printed %d lines, want 5:\n%s", len(lines), b.String())
		}
		re := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + id.String() + ` (client|server) +(\S+) -> (\S+) (\S+) (ok|\d{3}) \S+`)
		got := map[string]int{}
		for _, l := range lines {
			m := re.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("line %q is not an event of trace %s", l, id)
			}
			got[strings.Join(m[1:6], " ")]++
		}
		want := map[string]int{
			"server - gateway /apply 400":            1,
			"client gateway fee-calc /calculate 400": 1,
			"server gateway fee-calc /calculate 400": 1,
			"client fee-calc payment /charge 400":    1,
			"server fee-calc payment /charge 400":    1,
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("lines %v, want %v", got, want)
				break
			}
		}
		if !strings.Contains(b.String(), `error="amount must be > 0"`) {
			t.Errorf("no error text printed:\n%s", b.String())
		}
	})

	t.Run("live, until ctx ends", func(t *testing.T) {
		tctx, stop := context.WithCancel(ctx)
		var b syncBuffer
		done := make(chan error, 1)
		go func() { done <- tracecli.Tail(tctx, f.js, time.Time{}, 0, &b) }()
		// Tail follows from the moment it starts: call until one of the
		// calls made shows.
		var ids []trace.TraceID
		natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			id, err := f.run(ctx, 125)
			if err != nil {
				return err
			}
			ids = append(ids, id)
			select {
			case err := <-done:
				t.Fatalf("Tail returned early: %v", err)
			default:
			}
			for _, id := range ids {
				if strings.Contains(b.String(), " "+id.String()+" ") {
					return nil
				}
			}
			return fmt.Errorf("none of %d traces tailed yet", len(ids))
		})
		stop()
		if err := <-done; err != nil {
			t.Errorf("Tail after its ctx ended: %v, want nil", err)
		}
	})
}

func TestLine(t *testing.T) {
	tid, _ := trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.ParseSpanID("00f067aa0ba902b7")
	start := time.Date(2026, 5, 1, 10, 0, 0, 1e6, time.UTC)
	base := trace.Event{TraceID: tid, SpanID: sid, Kind: trace.KindClient, Caller: "gateway", Service: "fee-calc",
		Path: "/calculate", Attempt: 1, Start: start, Stop: start.Add(1234 * time.Microsecond), DurationUS: 1234}
	failed := base
	failed.Attempt, failed.Code, failed.Error = 3, rpc.CodeDeadlineExceeded, `fee-calc /calculate: no reply before the deadline`
	anonymous := base
	anonymous.Kind, anonymous.Caller, anonymous.DurationUS = trace.KindServer, "", 850
	tests := []struct {
		name string
		ev   trace.Event
		want string
	}{
		{"success", base, "2026-05-01T10:00:00.001Z 4bf92f3577b34da6a3ce929d0e0e4736 client gateway -> fee-calc /calculate ok 1.2ms"},
		{"retried failure", failed, `2026-05-01T10:00:00.001Z 4bf92f3577b34da6a3ce929d0e0e4736 client gateway -> fee-calc /calculate 504 1.2ms attempt=3 error="fee-calc /calculate: no reply before the deadline"`},
		{"no caller", anonymous, "2026-05-01T10:00:00.001Z 4bf92f3577b34da6a3ce929d0e0e4736 server - -> fee-calc /calculate ok 850µs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tracecli.Line(tt.ev); got != tt.want {
				t.Errorf("Line =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}
