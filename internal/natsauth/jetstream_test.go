package natsauth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
)

// The grants of the demo matrix let each booth use its store the way the
// demo booths do, once the provisioner made them, and nothing else: no
// booth can create its store.
func TestJetStreamGrantsServeTheBooths(t *testing.T) {
	s := startMesh(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 300*time.Millisecond) }

	payment, _ := jetstream.New(connectAs(t, s, "payment"))
	sctx, c := short()
	if _, err := payment.CreateKeyValue(sctx, jetstream.KeyValueConfig{Bucket: "PAYMENTS", History: 1}); err == nil {
		t.Error("payment created its ledger")
	}
	c()
	storestest.Provision(t, connectAs(t, s, "provisioner"), stores.Options{})
	kv, err := payment.KeyValue(ctx, "PAYMENTS")
	if err != nil {
		t.Fatalf("payment binding its ledger: %v", err)
	}
	if _, err := kv.Create(ctx, "req-1", []byte(`{"amount":125}`)); err != nil {
		t.Fatalf("payment writing its ledger: %v", err)
	}
	if e, err := kv.Get(ctx, "req-1"); err != nil || string(e.Value()) != `{"amount":125}` {
		t.Fatalf("payment reading its ledger: %v", err)
	}
	sctx, c = short()
	if _, err := payment.ObjectStore(sctx, "LICENSES"); err == nil {
		t.Error("payment opened the license store")
	}
	c()

	printer, _ := jetstream.New(connectAs(t, s, "license-printer"))
	store, err := printer.ObjectStore(ctx, "LICENSES")
	if err != nil {
		t.Fatalf("license-printer binding its store: %v", err)
	}
	pdf := bytes.Repeat([]byte("%PDF-1.4 "), 20000) // several chunks
	if _, err := store.Put(ctx, jetstream.ObjectMeta{Name: "lic-1"}, bytes.NewReader(pdf)); err != nil {
		t.Fatalf("license-printer storing a PDF: %v", err)
	}

	bridge, _ := jetstream.New(connectAs(t, s, "bridge"))
	ro, err := bridge.ObjectStore(ctx, "LICENSES")
	if err != nil {
		t.Fatalf("bridge opening the license store: %v", err)
	}
	r, err := ro.Get(ctx, "lic-1")
	if err != nil {
		t.Fatalf("bridge reading a license: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("bridge read %d bytes, %v; want %d", len(got), err, len(pdf))
	}
	sctx, c = short()
	if _, err := ro.PutBytes(sctx, "forged", []byte("x")); err == nil {
		t.Error("bridge wrote to the license store")
	}
	c()

	audit, _ := jetstream.New(connectAs(t, s, "audit-log"))
	stream, err := audit.Stream(ctx, "AUDIT")
	if err != nil {
		t.Fatalf("audit-log binding its stream: %v", err)
	}
	ack, err := audit.Publish(ctx, "audit.records", []byte(`{"user":"***-**-6789"}`))
	if err != nil {
		t.Fatalf("audit-log appending: %v", err)
	}
	if _, err := stream.GetMsg(ctx, ack.Sequence); err != nil {
		t.Fatalf("audit-log reading back: %v", err)
	}
	sctx, c = short()
	err = stream.Purge(sctx)
	c()
	if err == nil {
		t.Fatal("audit-log purged AUDIT")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, nats.ErrPermissionViolation) {
		t.Logf("purge refused with %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("AUDIT after a purge attempt: %v msgs, %v; want 1", info.State.Msgs, err)
	}
}
