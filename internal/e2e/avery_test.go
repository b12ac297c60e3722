package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/pdftest"
)

const averySSN = "123-45-6789"

// Avery's same-day license, end to end through the secure mesh as the
// gateway sends it: the bridge over HTTPS with HTTP/2 and the gateway's
// client certificate, calling for the gateway with its own key on a NATS
// that admits only the matrix's identities, and the real booths checking
// every call's token. A retried charge with the same Idempotency-Key
// charges once.
func TestAveryGetsHerLicenseThroughTheSecureMesh(t *testing.T) {
	m := startMesh(t)
	gw := httpsClient(t, certOf(t, dir, "gateway"))
	m.waitForBooths(t, gw)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	call := func(service, path, body, key string) response {
		t.Helper()
		res := mustDo(t, gw, "POST", m.url+"/v1/call/"+service+path, body,
			"Content-Type: application/json", "Idempotency-Key: "+key,
			"traceparent: 00-"+traceID+"-00f067aa0ba902b7-01")
		if res.status != 200 || res.proto != 2 {
			t.Fatalf("%s %s: %d over HTTP/%d %s, want 200 over HTTP/2", service, path, res.status, res.proto, res.body)
		}
		return res
	}
	avery := `{"name":"Avery Johnson","ssn":"` + averySSN + `","license_type":"professional-engineer"}`

	var fee struct {
		LicenseType string  `json:"license_type"`
		Amount      float64 `json:"amount"`
		Currency    string  `json:"currency"`
	}
	decode(t, call("fee-calc", "/calculate", avery, uuid.NewString()), &fee)
	if fee.Amount != 125 || fee.Currency != "USD" || fee.LicenseType != "professional-engineer" {
		t.Fatalf("fee %+v, want 125 USD for professional-engineer", fee)
	}

	chargeKey := uuid.NewString()
	charge := `{"amount":125,"currency":"USD"}`
	var first, retry struct {
		Txn    string  `json:"txn"`
		Amount float64 `json:"amount"`
	}
	decode(t, call("payment", "/charge", charge, chargeKey), &first)
	decode(t, call("payment", "/charge", charge, chargeKey), &retry) // the gateway retries
	if uuid.Validate(first.Txn) != nil || first.Amount != 125 || retry != first {
		t.Errorf("charge %+v then retry %+v, want one txn for 125 replayed", first, retry)
	}

	var doc struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	decode(t, call("license-printer", "/generate", avery, uuid.NewString()), &doc)
	if doc.URL != "/v1/licenses/"+doc.ID {
		t.Fatalf("license %+v, want its /v1/licenses/ URL", doc)
	}

	var rec struct {
		ID  string `json:"id"`
		Seq uint64 `json:"seq"`
	}
	decode(t, call("audit-log", "/record", `{"user":"`+averySSN+`","fee":125,"doc_id":"`+doc.ID+`"}`, uuid.NewString()), &rec)

	t.Run("the PDF downloads through the bridge and names Avery", func(t *testing.T) {
		res := mustDo(t, gw, "GET", m.url+doc.URL, "")
		if res.status != 200 || res.proto != 2 || res.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("GET %s: %d over HTTP/%d %s", doc.URL, res.status, res.proto, res.header.Get("Content-Type"))
		}
		if !bytes.HasPrefix(res.body, []byte("%PDF")) {
			t.Fatalf("license starts with %q, want %%PDF", res.body[:min(8, len(res.body))])
		}
		if text := pdftest.Text(t, res.body); !strings.Contains(text, "Avery Johnson") {
			t.Errorf("the PDF reader finds no \"Avery Johnson\" in %q", text)
		}
	})

	t.Run("one charge in the ledger, made for the gateway", func(t *testing.T) {
		js, err := jetstream.New(connectAs(t, m.app, "payment"))
		if err != nil {
			t.Fatal(err)
		}
		kv, err := js.KeyValue(t.Context(), booths.PaymentsBucket)
		if err != nil {
			t.Fatal(err)
		}
		hist, err := kv.History(t.Context(), chargeKey)
		if err != nil {
			t.Fatal(err)
		}
		var entry booths.LedgerEntry
		if len(hist) == 1 {
			if err := json.Unmarshal(hist[0].Value(), &entry); err != nil {
				t.Fatal(err)
			}
		}
		if len(hist) != 1 || hist[0].Revision() != 1 || entry.Reply.Txn != first.Txn || entry.Caller != "gateway" {
			t.Errorf("ledger holds %d writes for %s (%+v), want the one first write, txn %s, caller gateway", len(hist), chargeKey, entry, first.Txn)
		}
	})

	t.Run("an AUDIT record without the raw SSN", func(t *testing.T) {
		js, err := jetstream.New(connectAs(t, m.app, "audit-log"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := js.Stream(t.Context(), booths.AuditStream)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := st.GetMsg(t.Context(), rec.Seq)
		if err != nil {
			t.Fatal(err)
		}
		var got booths.AuditRecord
		if err := json.Unmarshal(msg.Data, &got); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(msg.Data, []byte(averySSN)) || bytes.Contains(msg.Data, []byte("123456789")) {
			t.Errorf("the AUDIT record holds the raw SSN: %s", msg.Data)
		}
		if got.ID != rec.ID || got.UserMasked != "***-**-6789" || got.UserHash == "" || got.DocID != doc.ID || got.Fee != 125 || got.Caller != "gateway" {
			t.Errorf("AUDIT record %+v, want %s for doc %s, fee 125, masked SSN, a hash, caller gateway", got, rec.ID, doc.ID)
		}
		if !strings.Contains(got.Traceparent, traceID) {
			t.Errorf("AUDIT record traceparent %q, want the gateway's trace %s", got.Traceparent, traceID)
		}
	})
}

func decode(t *testing.T, res response, v any) {
	t.Helper()
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("reply %s: %v", res.body, err)
	}
}
