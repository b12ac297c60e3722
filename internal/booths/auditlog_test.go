package booths_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

const averySSN = "123-45-6789"

func auditStream(t *testing.T, nc *nats.Conn) jetstream.Stream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), booths.AuditStream)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func auditCount(t *testing.T, st jetstream.Stream) uint64 {
	t.Helper()
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// filesHolding returns the files under dir whose bytes contain s.
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(s)) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestAuditLogNeverStoresTheSSN(t *testing.T) {
	store := t.TempDir()
	s := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: store})
	storestest.Provision(t, natstest.Connect(t, s), stores.Options{})
	startBooth(t, s, "audit-log", testConfig())
	client := newClient(t, s)
	st := auditStream(t, natstest.Connect(t, s))
	reqID, docID := uuid.NewString(), uuid.NewString()
	ctx := rpc.WithRequestID(t.Context(), reqID)
	req := booths.RecordRequest{User: averySSN, Fee: 125, DocID: docID}

	var got booths.RecordReply
	if err := client.Call(ctx, "audit-log", "/record", req, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.Seq != 1 {
		t.Fatalf("got %+v, want an id at seq 1", got)
	}

	msg, err := st.GetMsg(t.Context(), got.Seq)
	if err != nil {
		t.Fatal(err)
	}
	var rec booths.AuditRecord
	if err := json.Unmarshal(msg.Data, &rec); err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, testAuditKey)
	mac.Write([]byte("123456789"))
	want := booths.AuditRecord{
		ID: got.ID, RequestID: reqID, Caller: "gateway", Action: booths.DefaultAuditAction, DocID: docID, Fee: 125,
		UserMasked: "***-**-6789", UserHash: hex.EncodeToString(mac.Sum(nil)), RecordedAt: rec.RecordedAt,
		PrevHash: "", Hash: rec.Hash,
	}
	if rec != want {
		t.Errorf("stored %+v\nwant     %+v", rec, want)
	}
	if len(rec.Hash) != 64 || rec.Hash != rec.ChainHash() {
		t.Errorf("hash %q, want the record's chain hash %q", rec.Hash, rec.ChainHash())
	}
	if _, err := time.Parse(time.RFC3339Nano, rec.RecordedAt); err != nil {
		t.Errorf("recorded_at %q: %v", rec.RecordedAt, err)
	}
	for _, ssn := range []string{averySSN, "123456789"} {
		if bytes.Contains(msg.Data, []byte(ssn)) || strings.Contains(fmt.Sprint(msg.Header), ssn) {
			t.Errorf("stored message holds the SSN %s: %s", ssn, msg.Data)
		}
	}
	// The record is on disk (the scan works) and no file holds the SSN.
	natstest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if len(filesHolding(t, store, docID)) == 0 {
			return fmt.Errorf("record %s not yet in %s", docID, store)
		}
		return nil
	})
	for _, ssn := range []string{averySSN, "123456789"} {
		if files := filesHolding(t, store, ssn); len(files) > 0 {
			t.Errorf("the SSN %s is stored in %v", ssn, files)
		}
	}

	t.Run("retry replays the first reply", func(t *testing.T) {
		var again booths.RecordReply
		if err := client.Call(ctx, "audit-log", "/record", req, &again); err != nil {
			t.Fatal(err)
		}
		if again != got || auditCount(t, st) != 1 {
			t.Errorf("got %+v with %d records, want %+v with 1", again, auditCount(t, st), got)
		}
	})
	t.Run("same id, different record", func(t *testing.T) {
		other := req
		other.Fee = 80
		err := client.Call(ctx, "audit-log", "/record", other, nil)
		if code := rpc.CodeOf(err); code != rpc.CodeConflict || auditCount(t, st) != 1 {
			t.Errorf("got %v with %d records, want 409 with 1", err, auditCount(t, st))
		}
	})
	t.Run("records cannot be deleted or purged", func(t *testing.T) {
		if err := st.DeleteMsg(t.Context(), got.Seq); err == nil {
			t.Error("deleting a record succeeded")
		}
		if err := st.Purge(t.Context()); err == nil {
			t.Error("purging the stream succeeded")
		}
		if n := auditCount(t, st); n != 1 {
			t.Errorf("%d records left, want 1", n)
		}
	})
}

func TestAuditLogRefusesIncompleteRecords(t *testing.T) {
	s := startServer(t)
	startBooth(t, s, "audit-log", testConfig())
	client := newClient(t, s)
	nc := natstest.Connect(t, s)
	st := auditStream(t, nc)

	for _, tc := range []struct {
		name, body, wantInMsg string
	}{
		{"no user", `{"fee":125,"doc_id":"d1"}`, "field user is required"},
		{"empty user", `{"user":"","fee":125,"doc_id":"d1"}`, "field user is required"},
		{"no doc_id", `{"user":"123-45-6789","fee":125}`, "field doc_id is required"},
		{"no fee", `{"user":"123-45-6789","doc_id":"d1"}`, "field fee is required"},
		{"user not an SSN", `{"user":"Avery Johnson","fee":125,"doc_id":"d1"}`, "field user must be an SSN"},
		{"short SSN", `{"user":"123-45-678","fee":125,"doc_id":"d1"}`, "field user must be an SSN"},
		{"negative fee", `{"user":"123-45-6789","fee":-1,"doc_id":"d1"}`, "field fee must be"},
		{"SSN in doc_id", `{"user":"123-45-6789","fee":125,"doc_id":"123-45-6789"}`, "doc_id looks like it holds an SSN"},
		{"SSN in action", `{"user":"123-45-6789","fee":125,"doc_id":"d1","action":"x123-45-6789"}`, "action looks like it holds an SSN"},
		{"bad action", `{"user":"123-45-6789","fee":125,"doc_id":"d1","action":"Issued!"}`, "field action must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.CallRaw(t.Context(), "audit-log", "/record", []byte(tc.body))
			msg := rpc.MessageOf(err)
			if rpc.CodeOf(err) != rpc.CodeBadRequest || !strings.Contains(msg, tc.wantInMsg) {
				t.Errorf("got %v, want 400 saying %q", err, tc.wantInMsg)
			}
			if strings.Contains(msg, "123-45-678") {
				t.Errorf("error message quotes the SSN: %q", msg)
			}
		})
	}

	t.Run("no request id", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		res, err := nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: "svc.audit-log.record",
			Data: []byte(`{"user":"123-45-6789","fee":125,"doc_id":"d1"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Header.Get(rpc.HeaderErrorCode); got != "400" {
			t.Errorf("got code %q (%s), want 400", got, res.Header.Get(rpc.HeaderError))
		}
	})

	if n := auditCount(t, st); n != 0 {
		t.Errorf("%d records appended by refused requests, want 0", n)
	}
}

func TestAuditLogNeedsAKey(t *testing.T) {
	s := startServer(t)
	cfg := testConfig()
	cfg.AuditKey = []byte("short")
	b, err := booths.Start(t.Context(), natstest.Connect(t, s), "audit-log", cfg)
	if err == nil {
		_ = b.Stop(t.Context())
		t.Fatal("audit-log started with a 5-byte key")
	}
	if !strings.Contains(err.Error(), "at least 16 bytes") {
		t.Errorf("got %v, want it to say the key is too short", err)
	}
}
