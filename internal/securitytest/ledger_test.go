package securitytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// ledgerAttack is what an attacker holding payment's own credentials does
// to the stores of a charge already made under request id id.
type ledgerAttack struct {
	name string
	// msgs are published, in order, with payment's connection.
	msgs func(id string) []*nats.Msg
}

// kvMsg is a raw publish to key of bucket with the given KV headers.
func kvMsg(bucket, key, data string, hdr ...string) *nats.Msg {
	m := nats.NewMsg("$KV." + bucket + "." + key)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	m.Data = []byte(data)
	return m
}

// dedupKey is payment /charge's key in the dedup store for request id.
func dedupKey(id string) string { return "payment.charge." + id }

var ledgerAttacks = []ledgerAttack{
	{"delete markers on the ledger and dedup keys", func(id string) []*nats.Msg {
		return []*nats.Msg{
			kvMsg(booths.PaymentsBucket, id, "", "KV-Operation", "DEL"),
			kvMsg(rpc.DedupBucket, dedupKey(id), "", "KV-Operation", "DEL"),
		}
	}},
	{"purge markers (rollup) on the ledger and dedup keys", func(id string) []*nats.Msg {
		return []*nats.Msg{
			kvMsg(booths.PaymentsBucket, id, "", "KV-Operation", "PURGE", "Nats-Rollup", "sub"),
			kvMsg(rpc.DedupBucket, dedupKey(id), "", "KV-Operation", "PURGE", "Nats-Rollup", "sub"),
		}
	}},
	{"raw publishes over the ledger and dedup entries", func(id string) []*nats.Msg {
		return []*nats.Msg{
			kvMsg(booths.PaymentsBucket, id, `{"request_id":"`+id+`","body_sha256":"forged","reply":{"txn":"forged"}}`),
			kvMsg(rpc.DedupBucket, dedupKey(id), `{"state":"pending","sha256":"forged","lease":"2000-01-01T00:00:00Z"}`+"\n"),
			kvMsg(rpc.DedupBucket, dedupKey(id)+".1", `{"state":"released","sha256":"forged"}`+"\n"),
		}
	}},
	{"purge and message delete through the JetStream API", func(id string) []*nats.Msg {
		var out []*nats.Msg
		for _, stream := range []string{"KV_" + booths.PaymentsBucket, "KV_" + rpc.DedupBucket} {
			out = append(out,
				&nats.Msg{Subject: "$JS.API.STREAM.PURGE." + stream, Data: []byte(`{"filter":"$KV.>"}`)},
				&nats.Msg{Subject: "$JS.API.STREAM.MSG.DELETE." + stream, Data: []byte(`{"seq":1}`)},
				&nats.Msg{Subject: "$JS.API.STREAM.UPDATE." + stream, Data: []byte(`{"name":"` + stream + `","max_msgs_per_subject":5}`)})
		}
		return out
	}},
}

// entries returns the ledger's and the dedup store's entries of request id,
// as stored (value and revision), or why they cannot be read.
func entries(t *testing.T, ledger, dedup jetstream.KeyValue, id string) [2]string {
	t.Helper()
	var out [2]string
	for i, kv := range []jetstream.KeyValue{ledger, dedup} {
		key := id
		if i == 1 {
			key = dedupKey(id)
		}
		e, err := kv.Get(t.Context(), key)
		if err != nil {
			out[i] = fmt.Sprintf("%s: %v", key, err)
			continue
		}
		out[i] = fmt.Sprintf("rev %d: %s", e.Revision(), e.Value())
	}
	return out
}

// startPayment runs the payment booth on its own credentials on the secure
// mesh, with its stores provisioned, and returns the mesh's server and a
// client calling as the gateway.
func startPayment(t *testing.T) (*server.Server, *rpc.Client) {
	t.Helper()
	s := startMesh(t)
	provisionStores(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := booths.Start(ctx, connectAs(t, s, "payment"), "payment", booths.Config{Logger: quiet})
	if err != nil {
		t.Fatalf("starting payment: %v", err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	signer, err := mesh.Credentials{Dir: dir}.Signer("gateway", demo)
	if err != nil {
		t.Fatal(err)
	}
	client, err := rpc.NewClient(connectAs(t, s, "gateway"), rpc.WithCaller("gateway"),
		rpc.WithAttemptMiddleware(signer.Middleware()), rpc.WithAttemptTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return s, client
}

// A charge once recorded for a request id is never charged again, whatever
// payment's own identity publishes to the ledger and the dedup store:
// delete markers, purge markers or raw entries over the first ones. The
// same request id keeps getting the first transaction.
func TestLedgerNeverReopens(t *testing.T) {
	s, client := startPayment(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	attacker := connectAs(t, s, "payment")
	js, err := jetstream.New(attacker)
	if err != nil {
		t.Fatal(err)
	}
	charge := func(t *testing.T, id string) booths.ChargeReply {
		t.Helper()
		var res booths.ChargeReply
		if err := client.Call(rpc.WithRequestID(ctx, id), "payment", "/charge",
			booths.ChargeRequest{Amount: 125, Currency: "USD"}, &res); err != nil {
			t.Fatalf("charge %s: %v", id, err)
		}
		return res
	}
	ledger, err := js.KeyValue(ctx, booths.PaymentsBucket)
	if err != nil {
		t.Fatal(err)
	}
	dedup, err := js.KeyValue(ctx, rpc.DedupBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range ledgerAttacks {
		t.Run(at.name, func(t *testing.T) {
			id := uuid.NewString()
			first := charge(t, id)
			before := entries(t, ledger, dedup, id)
			stored := 0
			for _, m := range at.msgs(id) {
				var err error
				if strings.HasPrefix(m.Subject, "$JS.API.") {
					// A refused request is only a timeout to its sender;
					// one that ran would change the entries.
					_, err = attacker.RequestMsg(m, 500*time.Millisecond)
					t.Logf("%s: %v", m.Subject, err)
					continue
				}
				pctx, pcancel := context.WithTimeout(ctx, time.Second)
				_, err = js.PublishMsg(pctx, m)
				pcancel()
				if err == nil {
					stored++
					t.Logf("stored: %s %v", m.Subject, m.Header)
				} else {
					t.Logf("refused: %s: %v", m.Subject, err)
				}
			}
			if after := entries(t, ledger, dedup, id); after != before {
				t.Errorf("the entries of %s changed:\nbefore %q\nafter  %q", id, before, after)
			}
			again := charge(t, id)
			if again.Txn != first.Txn {
				t.Errorf("the same request id charged again: txn %s, then %s", first.Txn, again.Txn)
			}
			if stored != 0 {
				t.Errorf("%d of the attacker's messages were stored, want 0", stored)
			}
		})
	}
}

// What payment's own identity can still do to its own data, pinned so that
// the README's list stays true: it may write the first entry of a request
// id no call has used yet. A later call with that id then replays the
// forged entry: the booth cannot tell it from its own. It cannot undo or
// replace an entry, as TestLedgerNeverReopens shows.
func TestPaymentMayWriteTheFirstEntryOfANewID(t *testing.T) {
	s, client := startPayment(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(connectAs(t, s, "payment"))
	if err != nil {
		t.Fatal(err)
	}
	req := booths.ChargeRequest{Amount: 125, Currency: "USD"}
	body, _ := json.Marshal(req)
	sum := sha256.Sum256(body)
	id := uuid.NewString()
	forged, _ := json.Marshal(booths.LedgerEntry{RequestID: id, BodySHA256: hex.EncodeToString(sum[:]), Caller: "gateway",
		Reply: booths.ChargeReply{Txn: "forged", Amount: 125, Currency: "USD"}})
	if _, err := js.Publish(ctx, "$KV."+booths.PaymentsBucket+"."+id, forged); err != nil {
		t.Fatalf("writing the first entry of a new id: %v", err)
	}
	var res booths.ChargeReply
	if err := client.Call(rpc.WithRequestID(ctx, id), "payment", "/charge", req, &res); err != nil {
		t.Fatal(err)
	}
	if res.Txn != "forged" {
		t.Errorf("the charge answered txn %s, want the forged first entry replayed", res.Txn)
	}
}
