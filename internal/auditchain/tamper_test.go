package auditchain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hms-svc/hms-svc/internal/auditchain"
	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// auditLog is an audit-log booth on its own connection to a server, whose
// metrics go to reg (none when nil), and a client of it.
type auditLog struct {
	booth  *rpc.Booth
	reg    *prometheus.Registry
	client *rpc.Client
	n      int // records written so far
}

func startAuditLog(t *testing.T, s *server.Server, reg *prometheus.Registry) *auditLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cfg := booths.Config{AuditKey: []byte("test-audit-key-0123456789"), Logger: slog.New(slog.DiscardHandler)}
	if reg != nil {
		cfg.Metrics = reg
	}
	nc := natstest.Connect(t, s)
	storestest.Provision(t, nc, stores.Options{})
	b, err := booths.Start(ctx, nc, "audit-log", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	client, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return &auditLog{booth: b, reg: reg, client: client}
}

// record writes n records through the booth.
func (a *auditLog) record(t *testing.T, n int) {
	t.Helper()
	for range n {
		a.n++
		req := booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: fmt.Sprintf("doc-%d", a.n)}
		if err := a.client.Call(t.Context(), "audit-log", "/record", req, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// problems reads the booth's hms_svc_audit_chain_problems_total by kind.
func (a *auditLog) problems(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := a.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "hms_svc_audit_chain_problems_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

// storedAt returns the stored record at seq.
func storedAt(t *testing.T, js jetstream.JetStream, seq uint64) booths.AuditRecord {
	t.Helper()
	st, err := js.Stream(t.Context(), booths.AuditStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetMsg(t.Context(), seq)
	if err != nil {
		t.Fatal(err)
	}
	var rec booths.AuditRecord
	if err := json.Unmarshal(msg.Data, &rec); err != nil {
		t.Fatalf("record %d: %v", seq, err)
	}
	return rec
}

// sealed is a record as audit-log would write it after prev (hash set).
func sealed(prev string, mutate func(*booths.AuditRecord)) []byte {
	rec := booths.AuditRecord{
		ID: "0d4b5c8e-1111-4a4a-9b9b-123456789abc", RequestID: "forged-request", Action: "license-issued",
		DocID: "forged", Fee: 1, UserMasked: "***-**-0000", UserHash: "ab12", RecordedAt: "2025-01-02T03:04:05Z", PrevHash: prev,
	}
	rec.Hash = rec.ChainHash()
	if mutate != nil {
		mutate(&rec)
	}
	data, _ := json.Marshal(rec)
	return data
}

// Every way of breaking the chain is reported, by the verifier (one line
// naming the sequence and the kind, and nothing else: the records audit-log
// appends after it are sound) and by the audit-log booth when it appends
// after it (hms_svc_audit_chain_problems_total{kind} counts 1). Each tamper
// is what a holder of audit-log's credentials can publish on the audit
// subject, after 3 records, followed by 2 records written through the
// booth; the records that audit-log appends after a record it cannot link
// to name the break and pin its bytes.
func TestEveryTamperIsReported(t *testing.T) {
	tests := []struct {
		name      string
		tamper    func(t *testing.T, js jetstream.JetStream) []byte // what to publish, given the stream
		wantKind  booths.ChainKind
		wantLine  string
		wantBreak bool // whether the booth's next record names a break at 4
	}{
		{"foreign: missing fields, no hash", func(*testing.T, jetstream.JetStream) []byte {
			return []byte(`{"id":"forged","user_masked":"***-**-0000"}`)
		}, booths.ChainForeign, "seq 4: foreign: record has no hash", true},
		{"foreign: a field missing", func(t *testing.T, js jetstream.JetStream) []byte {
			data := sealed(storedAt(t, js, 3).Hash, nil)
			return []byte(strings.Replace(string(data), `"user_hash":"ab12",`, "", 1))
		}, booths.ChainForeign, "seq 4: foreign: record lacks [user_hash]", true},
		{"foreign: not JSON", func(*testing.T, jetstream.JetStream) []byte { return []byte("approved") },
			booths.ChainForeign, "seq 4: foreign: unreadable record", true},
		{"edited: a wrong hash", func(t *testing.T, js jetstream.JetStream) []byte {
			return sealed(storedAt(t, js, 3).Hash, func(r *booths.AuditRecord) { r.Fee = 0 })
		}, booths.ChainEdited, "seq 4: edited: the content does not match the record's hash", true},
		{"restart: a new chain", func(*testing.T, jetstream.JetStream) []byte { return sealed("", nil) },
			booths.ChainRestart, "seq 4: restart: prev_hash is empty after the first record", false},
		{"gap: a bad prev_hash", func(*testing.T, jetstream.JetStream) []byte { return sealed(strings.Repeat("0", 64), nil) },
			booths.ChainGap, "seq 4: gap: prev_hash does not link to the hash of sequence 3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := natstest.Start(t)
			nc := natstest.Connect(t, s)
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			a := startAuditLog(t, s, prometheus.NewRegistry())
			a.record(t, 3)
			if _, err := js.Publish(t.Context(), booths.AuditSubject, tt.tamper(t, js)); err != nil {
				t.Fatal(err)
			}
			a.record(t, 2)

			r, err := auditchain.Verify(t.Context(), js)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() || r.Count != 6 || len(r.Gaps) != 0 || len(r.Problems) != 1 ||
				r.Problems[0].Seq != 4 || r.Problems[0].Kind != tt.wantKind || !strings.Contains(r.String(), tt.wantLine) {
				t.Errorf("verify:\n%s\nwant one problem: %q", r, tt.wantLine)
			}
			after := storedAt(t, js, 5)
			if got := after.Break != nil; got != tt.wantBreak || tt.wantBreak && (after.Break.Seq != 4 || after.Break.Kind != tt.wantKind) {
				t.Errorf("the booth's next record names break %+v, want one at 4 (%s): %v", after.Break, tt.wantKind, tt.wantBreak)
			}
			want := map[string]float64{"foreign": 0, "edited": 0, "restart": 0, "gap": 0}
			want[string(tt.wantKind)] = 1
			if got := a.problems(t); !equalCounts(got, want) {
				t.Errorf("audit-log counted %v, want %v", got, want)
			}
		})
	}
}

// Records removed from the start of the stream (as lowering its limits
// does: to 3 records, after 5) are a gap: the verifier names the
// sequences, and an audit-log instance that reads the tail (one starting,
// here) reports it. Starting, it also puts the stream's limits back.
func TestRecordsRemovedFromTheStartAreAGap(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	a := startAuditLog(t, s, prometheus.NewRegistry())
	a.record(t, 5)
	st, err := js.Stream(t.Context(), booths.AuditStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.MaxMsgs = 3
	if _, err := js.UpdateStream(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := a.booth.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := startAuditLog(t, s, prometheus.NewRegistry())
	second.n = a.n
	second.record(t, 1)

	r, err := auditchain.Verify(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Gaps, []auditchain.Gap{{From: 1, To: 2}}) || len(r.Problems) != 0 ||
		!strings.Contains(r.String(), "seq 1-2: gap: 2 records are missing") {
		t.Errorf("verify:\n%s\nwant the gap 1-2 alone", r)
	}
	if got := second.problems(t); got["gap"] != 1 {
		t.Errorf("the second audit-log instance counted %v, want 1 gap", got)
	}
}

func equalCounts(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
