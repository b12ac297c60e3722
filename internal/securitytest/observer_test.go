package securitytest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
)

// discover sends a NATS micro discovery request on subject as nc, the way
// `nats micro ls` does, and returns the answers' JSON once want have come.
func discover(t *testing.T, nc *nats.Conn, subject string, want int) []map[string]any {
	t.Helper()
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for len(out) < want {
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("%s: %d answers, want %d: %v", subject, len(out), want, err)
		}
		var v map[string]any
		if err := json.Unmarshal(msg.Data, &v); err != nil {
			t.Fatalf("%s: answer %q: %v", subject, msg.Data, err)
		}
		out = append(out, v)
	}
	return out
}

// The observer identity discovers every booth with the requests of the
// nats CLI (PING, INFO, STATS, to all or to one service) on its own
// credentials, and can do nothing else: no call reaches a booth, no
// JetStream store or API answers it, and it cannot listen to requests,
// trace events or another identity's inbox.
func TestObserverDiscoversBoothsAndNothingElse(t *testing.T) {
	s := startMesh(t)
	var booths []*countingBooth
	for _, svc := range demo.Services() {
		id, _ := demo.Identity("gateway")
		booths = append(booths, startCountingBooth(t, connectAs(t, s, svc), svc, id.Calls[svc]...))
	}
	var v violations
	obs := connectAs(t, s, "observer", v.handler())

	names := func(answers []map[string]any) []string {
		var out []string
		for _, a := range answers {
			out = append(out, fmt.Sprint(a["name"]))
		}
		slices.Sort(out)
		return out
	}
	for _, verb := range []string{"PING", "INFO", "STATS"} {
		got := names(discover(t, obs, "$SRV."+verb, len(booths)))
		if !slices.Equal(got, demo.Services()) {
			t.Errorf("$SRV.%s answered by %v, want every booth %v", verb, got, demo.Services())
		}
	}
	info := discover(t, obs, "$SRV.INFO.fee-calc", 1)[0]
	if eps, _ := info["endpoints"].([]any); info["name"] != "fee-calc" || len(eps) != 1 {
		t.Errorf("$SRV.INFO.fee-calc = %v, want fee-calc with its one endpoint", info)
	}

	// A call: refused by the server, never delivered.
	if _, err := obs.Request("svc.fee-calc.calculate", []byte(`{}`), 500*time.Millisecond); err == nil {
		t.Error("the observer's call to fee-calc was answered")
	}
	v.waitFor(t, "permissions violation for publish", "svc.fee-calc.calculate")
	for _, b := range booths {
		if n := b.runs.Load(); n != 0 {
			t.Errorf("a booth ran %d requests of the observer", n)
		}
	}
	// A store: the JetStream API is closed to it.
	js, err := jetstream.New(obs)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(what string, f func(context.Context) error) {
		t.Helper()
		// A refused request has no responder: it waits out its timeout.
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		if err := f(ctx); err == nil {
			t.Errorf("the observer read %s", what)
		}
	}
	for _, stream := range []string{"AUDIT", "SVC_TRACE", "KV_PAYMENTS"} {
		ask("stream "+stream, func(ctx context.Context) error { _, err := js.Stream(ctx, stream); return err })
		v.waitFor(t, "permissions violation for publish", "$JS.API.STREAM.INFO."+stream)
	}
	ask("the JetStream account", func(ctx context.Context) error { _, err := js.AccountInfo(ctx); return err })
	v.waitFor(t, "permissions violation for publish", "$JS.API.INFO")
	// Listening: requests, trace events, others' inboxes.
	for _, subject := range []string{"svc.fee-calc.>", "svc.trace.>", "_INBOX.bridge.>", "$SRV.>", ">"} {
		if _, err := obs.SubscribeSync(subject); err != nil {
			t.Fatal(err)
		}
		natstest.CheckFor(t, 2*time.Second, 5*time.Millisecond, func() error { return obs.Flush() })
		v.waitFor(t, "permissions violation for subscription", subject)
	}
}
