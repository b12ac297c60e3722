package auditchain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/auditchain"
	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// writeRecords runs an audit-log booth on nc and records n audit records
// through it.
func writeRecords(t *testing.T, nc *nats.Conn, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	storestest.Provision(t, nc, stores.Options{})
	b, err := booths.Start(ctx, nc, "audit-log", booths.Config{
		AuditKey: []byte("test-audit-key-0123456789"), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	client, err := rpc.NewClient(nc, rpc.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		req := booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: fmt.Sprintf("doc-%d", i)}
		if err := client.Call(ctx, "audit-log", "/record", req, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// copyStream copies AUDIT into a new stream name (on subject
// name.records), passing each record through alter first, and returns it.
func copyStream(t *testing.T, js jetstream.JetStream, name string, alter func(seq uint64, data []byte) []byte) jetstream.Stream {
	t.Helper()
	ctx := t.Context()
	dst, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{strings.ToLower(name) + ".records"}})
	if err != nil {
		t.Fatal(err)
	}
	src, err := js.Stream(ctx, booths.AuditStream)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= src.CachedInfo().State.LastSeq; seq++ {
		msg, err := src.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, strings.ToLower(name)+".records", alter(seq, msg.Data)); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestVerifyTheAuditStream(t *testing.T) {
	s := natstest.Start(t)
	nc := natstest.Connect(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("no stream", func(t *testing.T) {
		var out bytes.Buffer
		ok, err := auditchain.RunVerify(t.Context(), nc, &out)
		if ok || !errors.Is(err, auditchain.ErrNoStream) {
			t.Errorf("got %v, %v; want ErrNoStream", ok, err)
		}
	})

	writeRecords(t, nc, 12)

	t.Run("intact", func(t *testing.T) {
		var out bytes.Buffer
		ok, err := auditchain.RunVerify(t.Context(), nc, &out)
		if err != nil || !ok {
			t.Fatalf("got %v, %v; want an intact chain:\n%s", ok, err, out.String())
		}
		want := "stream AUDIT: 12 records, sequences 1 to 12\nOK: the chain is intact"
		if !strings.HasPrefix(out.String(), want) {
			t.Errorf("printed\n%s\nwant it to start with\n%s", out.String(), want)
		}
	})

	t.Run("altered record", func(t *testing.T) {
		copyStream(t, js, "ALTERED", func(seq uint64, data []byte) []byte {
			if seq != 5 {
				return data
			}
			var rec booths.AuditRecord
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatal(err)
			}
			rec.Fee = 0
			data, _ = json.Marshal(rec)
			return data
		})
		got, err := auditchain.VerifyStream(t.Context(), js, "ALTERED")
		if err != nil {
			t.Fatal(err)
		}
		if got.OK() || got.Count != 12 || !slices.Equal(problemSeqs(got), []uint64{5}) {
			t.Errorf("got %+v, want one problem at seq 5", got)
		}
	})

	t.Run("missing records", func(t *testing.T) {
		st := copyStream(t, js, "HOLED", func(_ uint64, data []byte) []byte { return data })
		for _, seq := range []uint64{1, 7, 8, 12} {
			if err := st.DeleteMsg(t.Context(), seq); err != nil {
				t.Fatal(err)
			}
		}
		got, err := auditchain.VerifyStream(t.Context(), js, "HOLED")
		if err != nil {
			t.Fatal(err)
		}
		wantGaps := []auditchain.Gap{{From: 1, To: 1}, {From: 7, To: 8}, {From: 12, To: 12}}
		if got.Count != 8 || got.FirstSeq != 2 || got.LastSeq != 11 || !slices.Equal(got.Gaps, wantGaps) || len(got.Problems) != 0 {
			t.Errorf("got %+v, want 8 records 2-11 with gaps %v", got, wantGaps)
		}
		if s := got.String(); !strings.Contains(s, "gap: sequences 7 to 8 are missing (2 records)") {
			t.Errorf("report lacks the gap:\n%s", s)
		}
	})
}
