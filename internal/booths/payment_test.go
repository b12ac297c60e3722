package booths_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func ledger(t *testing.T, nc *nats.Conn) jetstream.KeyValue {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(t.Context(), booths.PaymentsBucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func ledgerKeys(t *testing.T, kv jetstream.KeyValue) []string {
	t.Helper()
	keys, err := kv.Keys(t.Context())
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestPaymentChargesOncePerRequestID(t *testing.T) {
	s := startServer(t)
	startBooth(t, s, "payment", testConfig())
	client := newClient(t, s)
	kv := ledger(t, natstest.Connect(t, s))
	id := uuid.NewString()
	ctx := rpc.WithRequestID(t.Context(), id)

	var first, second booths.ChargeReply
	if err := client.Call(ctx, "payment", "/charge", booths.ChargeRequest{Amount: 125, Currency: "USD"}, &first); err != nil {
		t.Fatal(err)
	}
	// The framework compares the body's bytes: the same charge spelled
	// differently under a used request id is refused, never charged again.
	_, err := client.CallRaw(ctx, "payment", "/charge", []byte(`{ "currency":"USD", "amount":125.0 }`))
	if rpc.CodeOf(err) != rpc.CodeConflict {
		t.Fatalf("same id, body spelled differently: err = %v, want 409", err)
	}
	if err := client.Call(ctx, "payment", "/charge", booths.ChargeRequest{Amount: 125, Currency: "USD"}, &second); err != nil {
		t.Fatal(err)
	}
	if first.Txn == "" || second != first {
		t.Errorf("second reply %+v, want the first again %+v", second, first)
	}
	if first.Amount != 125 || first.Currency != "USD" {
		t.Errorf("got %+v, want 125 USD", first)
	}
	if _, err := time.Parse(time.RFC3339, first.ChargedAt); err != nil {
		t.Errorf("charged_at %q: %v", first.ChargedAt, err)
	}
	if got := ledgerKeys(t, kv); len(got) != 1 || got[0] != id {
		t.Fatalf("ledger keys %v, want just %s", got, id)
	}
	entry, err := kv.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var le booths.LedgerEntry
	if err := json.Unmarshal(entry.Value(), &le); err != nil {
		t.Fatal(err)
	}
	if entry.Revision() != 1 || le.Reply != first || le.Caller != "gateway" || len(le.BodySHA256) != 64 {
		t.Errorf("ledger entry rev %d %+v, want rev 1 holding %+v from gateway", entry.Revision(), le, first)
	}

	t.Run("same id, different body", func(t *testing.T) {
		err := client.Call(ctx, "payment", "/charge", booths.ChargeRequest{Amount: 126, Currency: "USD"}, nil)
		if got := rpc.CodeOf(err); got != rpc.CodeConflict {
			t.Errorf("got %v (%v), want 409", got, err)
		}
		if got := ledgerKeys(t, kv); len(got) != 1 {
			t.Errorf("ledger keys %v, want 1", got)
		}
	})
}

// Retries of one call that reach two instances at once charge once: every
// request id has one ledger entry at revision 1 and both callers get its txn.
func TestPaymentOneChargeAcrossInstances(t *testing.T) {
	s := startServer(t)
	// Two instances start at once, each creating the bucket.
	startTogether(t, s, "payment", "payment")
	var wg sync.WaitGroup
	clients := []*rpc.Client{newClient(t, s), newClient(t, s)}
	const calls = 20
	ids := make([]string, calls)
	txns := make([][2]string, calls)
	errs := make(chan error, 2*calls)
	for i := range ids {
		ids[i] = uuid.NewString()
		for c := range 2 {
			wg.Go(func() {
				var res booths.ChargeReply
				ctx := rpc.WithRequestID(t.Context(), ids[i])
				if err := clients[c].Call(ctx, "payment", "/charge", booths.ChargeRequest{Amount: 125, Currency: "USD"}, &res); err != nil {
					errs <- err
				}
				txns[i][c] = res.Txn
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, pair := range txns {
		if pair[0] == "" || pair[0] != pair[1] {
			t.Errorf("call %d: txns %q and %q, want one", i, pair[0], pair[1])
		}
	}
	kv := ledger(t, natstest.Connect(t, s))
	if got := ledgerKeys(t, kv); len(got) != calls {
		t.Errorf("ledger has %d entries, want %d", len(got), calls)
	}
	for _, id := range ids {
		if e, err := kv.Get(t.Context(), id); err != nil || e.Revision() == 0 {
			t.Errorf("entry %s: %v", id, err)
		}
		hist, err := kv.History(t.Context(), id)
		if err != nil || len(hist) != 1 {
			t.Errorf("entry %s written %d times (%v), want once", id, len(hist), err)
		}
	}
	// Both instances served: the race between them was real.
	for _, st := range serviceStats(t, natstest.Connect(t, s), "payment", 2) {
		if n := st.Endpoints[0].NumRequests; n == 0 {
			t.Errorf("instance %s served no request", st.ID)
		}
	}
}

func TestPaymentRefusesBadCharges(t *testing.T) {
	s := startServer(t)
	startBooth(t, s, "payment", testConfig())
	client := newClient(t, s)
	nc := natstest.Connect(t, s)
	kv := ledger(t, nc)

	for _, tc := range []struct {
		name string
		body string
	}{
		{"zero amount", `{"amount":0,"currency":"USD"}`},
		{"negative amount", `{"amount":-5,"currency":"USD"}`},
		{"no amount", `{"currency":"USD"}`},
		{"fractional cents", `{"amount":1.005,"currency":"USD"}`},
		{"lower-case currency", `{"amount":125,"currency":"usd"}`},
		{"long currency", `{"amount":125,"currency":"DOLLARS"}`},
		{"no currency", `{"amount":125}`},
		{"amount as text", `{"amount":"125","currency":"USD"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.CallRaw(t.Context(), "payment", "/charge", []byte(tc.body))
			if got := rpc.CodeOf(err); got != rpc.CodeBadRequest {
				t.Errorf("got %v (%v), want 400", got, err)
			}
		})
	}

	t.Run("no request id", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		msg, err := nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: "svc.payment.charge", Data: []byte(`{"amount":125,"currency":"USD"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get(rpc.HeaderErrorCode); got != "400" {
			t.Errorf("got code %q (%s), want 400", got, msg.Header.Get(rpc.HeaderError))
		}
	})

	if got := ledgerKeys(t, kv); len(got) != 0 {
		t.Errorf("ledger has %v after refused charges, want nothing", got)
	}
}
