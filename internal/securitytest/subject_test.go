package securitytest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// boothSpies subscribes every demo booth, with its own credentials and in
// its own queue group, to all of its request subjects.
func boothSpies(t *testing.T, s *server.Server) map[string]*spy {
	t.Helper()
	spies := map[string]*spy{}
	for _, svc := range demo.Services() {
		spies[svc] = newSpy(t, connectAs(t, s, svc), "svc."+svc+".>", svc)
	}
	return spies
}

// Publishing to a service or path the matrix does not grant is a
// permissions violation, and the booth sees nothing.
func TestUngrantedPublishIsRefused(t *testing.T) {
	s := startMesh(t)
	spies := boothSpies(t, s)
	tests := []struct {
		caller, subject, booth string
	}{
		{"gateway", "svc.payment.refund", "payment"},
		{"gateway", "svc.fee-calc.calculate.extra", "fee-calc"},
		{"gateway", "svc.payment.>", "payment"},
		{"bridge", "svc.audit-log.purge", "audit-log"},
		{"payment", "svc.fee-calc.calculate", "fee-calc"},
		{"fee-calc", "svc.audit-log.record", "audit-log"},
		{"license-printer", "svc.payment.charge", "payment"},
		{"audit-log", "svc.license-printer.generate", "license-printer"},
	}
	for _, tt := range tests {
		t.Run(tt.caller+" -> "+tt.subject, func(t *testing.T) {
			var v violations
			nc := connectAs(t, s, tt.caller, v.handler())
			if err := nc.Publish(tt.subject, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			v.waitFor(t, "permissions violation for publish", tt.subject)
			if n := spies[tt.booth].settled(t); n != 0 {
				t.Errorf("%s was delivered %d messages", tt.booth, n)
			}
		})
	}
	// Another identity's trace subject is not a way in either.
	var v violations
	nc := connectAs(t, s, "payment", v.handler())
	_ = nc.Publish("svc.trace.fee-calc", []byte(`{}`))
	_ = nc.Flush()
	v.waitFor(t, "permissions violation for publish", "svc.trace.fee-calc")
}

// A rogue booth with valid credentials cannot subscribe to another booth's
// requests (in any queue group), to everything, to other identities'
// inboxes, or to its own requests outside its queue group; the real booth
// keeps getting every call and the rogue gets none.
func TestRogueBoothCannotStealRequests(t *testing.T) {
	s := startMesh(t)
	fee := startCountingBooth(t, connectAs(t, s, "fee-calc"), "fee-calc", "/calculate")
	var v violations
	rogue := connectAs(t, s, "payment", v.handler())
	steal := []struct{ subject, queue string }{
		{"svc.fee-calc.>", ""},
		{"svc.fee-calc.calculate", "fee-calc"},
		{"svc.fee-calc.calculate", "payment"},
		{">", ""},
		{"svc.>", ""},
		{"_INBOX.>", ""},
		{"_INBOX.gateway.>", ""},
		{"_INBOX.bridge.>", ""},
		{"svc.payment.>", ""},
		{"svc.payment.charge", "payment-copy"},
		{"$SRV.INFO.fee-calc", ""},
	}
	var spies []*spy
	for _, st := range steal {
		spies = append(spies, newSpy(t, rogue, st.subject, st.queue))
	}
	for _, st := range steal {
		v.waitFor(t, "permissions violation for subscription", `"`+st.subject+`"`)
	}

	signer, err := mesh.Credentials{Dir: dir}.Signer("bridge", demo)
	if err != nil {
		t.Fatal(err)
	}
	client, err := rpc.NewClient(connectAs(t, s, "bridge"), rpc.WithAttemptMiddleware(signer.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := calltoken.OnBehalfOf(context.Background(), "gateway")
	const calls = 5
	for range calls {
		if err := client.Call(ctx, "fee-calc", "/calculate", map[string]string{"license_type": "professional-engineer"}, nil); err != nil {
			t.Fatalf("a legitimate call failed: %v", err)
		}
	}
	if got := fee.runs.Load(); got != calls {
		t.Errorf("the real booth ran %d times, want %d", got, calls)
	}
	for i, sp := range spies {
		if n := sp.settled(t); n != 0 {
			t.Errorf("rogue subscription %q (queue %q) got %d messages", steal[i].subject, steal[i].queue, n)
		}
	}
}

// AUDIT cannot be purged, deleted or reconfigured through the JetStream
// API, not even by the audit-log booth that appends to it (lowering its
// limits would delete records); other identities cannot read it either.
// Every record survives.
func TestAuditCannotBePurgedOrDeleted(t *testing.T) {
	s := startMesh(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	provisionStores(t, s)
	js, err := jetstream.New(connectAs(t, s, "audit-log"))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := js.Publish(ctx, "audit.records", []byte(`{"user":"***-**-6789"}`)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		identity, subject, body string
	}{
		{"audit-log", "$JS.API.STREAM.PURGE.AUDIT", `{}`},
		{"audit-log", "$JS.API.STREAM.PURGE.AUDIT", `{"filter":"audit.records"}`},
		{"audit-log", "$JS.API.STREAM.DELETE.AUDIT", ``},
		{"audit-log", "$JS.API.STREAM.MSG.DELETE.AUDIT", `{"seq":1}`},
		{"audit-log", "$JS.API.STREAM.MSG.DELETE.AUDIT", `{"seq":1,"no_erase":true}`},
		{"audit-log", "$JS.API.STREAM.UPDATE.AUDIT", `{"name":"AUDIT","subjects":["audit.records"],"max_msgs":1}`},
		{"audit-log", "$JS.API.STREAM.CREATE.AUDIT2", `{"name":"AUDIT2","subjects":["audit.records"]}`},
		{"gateway", "$JS.API.STREAM.PURGE.AUDIT", `{}`},
		{"bridge", "$JS.API.STREAM.DELETE.AUDIT", ``},
		{"payment", "$JS.API.STREAM.UPDATE.AUDIT", `{"name":"AUDIT","subjects":["audit.records"],"max_msgs":1}`},
		{"bridge", "$JS.API.STREAM.MSG.GET.AUDIT", `{"seq":1}`},
		{"license-printer", "audit.records", `{"forged":true}`},
	}
	t.Run("attacks", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.identity+" "+tt.subject, func(t *testing.T) {
				t.Parallel()
				var v violations
				nc := connectAs(t, s, tt.identity, v.handler())
				_, err := nc.Request(tt.subject, []byte(tt.body), 200*time.Millisecond)
				if err == nil {
					t.Fatal("JetStream answered")
				}
				v.waitFor(t, "permissions violation for publish", tt.subject)
			})
		}
	})
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 || info.State.FirstSeq != 1 {
		t.Errorf("AUDIT holds %d records from seq %d, want 2 from 1", info.State.Msgs, info.State.FirstSeq)
	}
	// The client library's own purge goes the same way.
	pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer pcancel()
	if err := stream.Purge(pctx); err == nil {
		t.Error("audit-log purged AUDIT through the client library")
	}
	if info, err := stream.Info(ctx); err != nil || info.State.Msgs != 2 {
		t.Errorf("AUDIT after the library's purge: %v", err)
	}
}
