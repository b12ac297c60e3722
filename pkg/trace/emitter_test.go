package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestEmitterOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		subject, want string
		ok            bool
	}{
		{"svc.trace.fee-calc", "fee-calc", true},
		{"svc.trace.bridge", "bridge", true},
		{"svc.trace.a.b", "", false},
		{"svc.trace.", "", false},
		{"svc.trace.Fee", "", false},
		{"svc.fee-calc.calculate", "", false},
		{"audit.records", "", false},
	} {
		if got, ok := EmitterOf(tt.subject); got != tt.want || ok != tt.ok {
			t.Errorf("EmitterOf(%q) = %q, %v; want %q, %v", tt.subject, got, ok, tt.want, tt.ok)
		}
	}
}

// Every event the mesh's own code emits passes the rule on its emitter's
// subject: the bridge's handling (StartSpan, service "bridge") and its
// attempts (ClientMiddleware, caller "bridge", for whomever it acts), a
// booth's handling (ServerMiddleware) and the calls a booth makes.
func TestRealHopsPassTheRule(t *testing.T) {
	t.Parallel()
	bridge, booth := &recorder{}, &recorder{}
	ok := func(context.Context, *rpc.Message) (*rpc.Message, error) { return &rpc.Message{}, nil }
	ctx, span := StartSpan(context.Background(), bridge, Hop{Caller: "gateway", Service: "bridge", Path: "/v1/call/fee-calc/calculate"})
	attempt := ClientMiddleware(bridge, "bridge")(ok)
	req := &rpc.Message{Service: "fee-calc", Path: "/calculate", Header: nats.Header{rpc.HeaderCaller: {"gateway"}}}
	if _, err := attempt(calltoken.OnBehalfOf(ctx, "gateway"), req); err != nil {
		t.Fatal(err)
	}
	span.End(nil)
	handle := ServerMiddleware(booth, "fee-calc-1")(func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
		onward := &rpc.Message{Service: "payment", Path: "/charge", Header: nats.Header{}}
		return ClientMiddleware(booth, "fee-calc")(ok)(ctx, onward)
	})
	if _, err := handle(context.Background(), &rpc.Message{Service: "fee-calc", Path: "/calculate", Header: req.Header}); err != nil {
		t.Fatal(err)
	}
	for emitter, rec := range map[string]*recorder{"bridge": bridge, "fee-calc": booth} {
		events := rec.all()
		if len(events) != 2 {
			t.Fatalf("%s emitted %d events, want 2", emitter, len(events))
		}
		for _, ev := range events {
			if reason, ok := MayEmit(emitter, &ev); !ok {
				t.Errorf("%s's own %s span (caller %q, service %q) refused: %s", emitter, ev.Kind, ev.Caller, ev.Service, reason)
			}
		}
	}
}

func TestMayEmitRefusesWhatTheEmitterDidNotSee(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		emitter string
		ev      Event
		want    RejectReason
	}{
		{"another booth's handling", "fee-calc", Event{Kind: KindServer, Caller: "gateway", Service: "payment"}, RejectServerOfAnother},
		{"the bridge's handling", "fee-calc", Event{Kind: KindServer, Caller: "gateway", Service: "bridge"}, RejectServerOfAnother},
		{"a call of the gateway's", "fee-calc", Event{Kind: KindClient, Caller: "gateway", Service: "payment"}, RejectClientOfAnother},
		{"a call with no caller", "fee-calc", Event{Kind: KindClient, Service: "payment"}, RejectClientOfAnother},
		{"the bridge recording the gateway's attempt", "bridge", Event{Kind: KindClient, Caller: "gateway", Service: "payment"}, RejectClientOfAnother},
		{"the bridge recording a booth's handling", "bridge", Event{Kind: KindServer, Caller: "bridge", Service: "payment"}, RejectServerOfAnother},
	} {
		if reason, ok := MayEmit(tt.emitter, &tt.ev); ok || reason != tt.want {
			t.Errorf("%s: MayEmit(%q) = %q, %v; want %q", tt.name, tt.emitter, reason, ok, tt.want)
		}
	}
}

// Follow and Get pass on only what their emitter may have made, and a
// Screen counts the rest by reason and logs one line per interval.
func TestReadersWithholdAndCount(t *testing.T) {
	t.Parallel()
	_, js := startJS(t)
	tid := newTraceID(time.Now())
	now := time.Now().UTC()
	ev := func(kind Kind, caller, service string) Event {
		return Event{TraceID: tid, SpanID: newSpanID(), Kind: kind, Caller: caller, Service: service, Path: "/p",
			Attempt: 1, Start: now, Stop: now}
	}
	encode := func(events ...Event) []byte {
		data, err := json.Marshal(batch{V: BatchVersion, Events: events})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	// fee-calc's own two events come last: a reader that passed them on
	// has read everything before them.
	for _, m := range []struct {
		subject string
		data    []byte
	}{
		{"svc.trace.fee-calc", []byte(`{"v":1,"events":[{"trace_id":"nope"}]}`)},
		{"svc.trace.x.y", encode(ev(KindServer, "gateway", "x"))},
		{"svc.trace.fee-calc", encode(ev(KindServer, "gateway", "payment"), ev(KindClient, "gateway", "payment"),
			ev(KindServer, "gateway", "fee-calc"), ev(KindClient, "fee-calc", "payment"))},
	} {
		if _, err := js.Publish(t.Context(), m.subject, m.data); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	screen := NewScreen(slog.New(slog.NewTextHandler(&logs, nil)))

	got, err := Get(t.Context(), js, tid, WithScreen(screen))
	if err != nil || len(got) != 2 {
		t.Fatalf("Get = %d events, %v; want fee-calc's own two", len(got), err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var followed []Event
	err = Follow(ctx, js, time.Unix(1, 0), func(ev Event) error {
		followed = append(followed, ev)
		if len(followed) == 2 {
			cancel()
		}
		return nil
	}, WithScreen(screen))
	if err != nil || len(followed) != 2 {
		t.Fatalf("Follow passed on %d events, %v; want fee-calc's own two", len(followed), err)
	}
	for _, e := range append(got, followed...) {
		if e.Service != "fee-calc" && e.Caller != "fee-calc" {
			t.Errorf("passed on %s span caller %q service %q", e.Kind, e.Caller, e.Service)
		}
	}
	// Each reader withheld one event (or message) for every reason.
	for _, reason := range RejectReasons() {
		if got := screen.Rejected(reason); got != 2 {
			t.Errorf("withheld %d for %s, want 2 (one by Get, one by Follow)", got, reason)
		}
	}
	if n := strings.Count(logs.String(), "trace events withheld"); n != 1 {
		t.Errorf("logged %d lines, want 1 per %v:\n%s", n, ScreenLogEvery, logs.String())
	}
}
