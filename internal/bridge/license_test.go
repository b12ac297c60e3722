package bridge_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func TestLicenseIsStreamedAsPDF(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	res := m.do(t, "GET", "/v1/licenses/abc-123", "")
	if e := errorOf(t, res); res.status != 404 || e.Message == "" {
		t.Errorf("before any license: %d %q, want 404", res.status, e.Message)
	}

	js, err := jetstream.New(m.boothConn(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "LICENSES"})
	if err != nil {
		t.Fatal(err)
	}
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("license "), 40000)...) // several chunks
	if _, err := store.PutBytes(ctx, "abc-123", pdf); err != nil {
		t.Fatal(err)
	}

	res = m.do(t, "GET", "/v1/licenses/abc-123", "")
	if res.status != 200 || res.proto != 2 {
		t.Fatalf("status %d over HTTP/%d (body %.200s)", res.status, res.proto, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type = %q, want application/pdf", ct)
	}
	if !bytes.Equal(res.body, pdf) {
		t.Errorf("got %d bytes, want the %d stored", len(res.body), len(pdf))
	}

	res = m.do(t, "GET", "/v1/licenses/abc-124", "")
	if e := errorOf(t, res); res.status != 404 || e.Message != `license "abc-124" not found` {
		t.Errorf("absent license: %d %q, want 404", res.status, e.Message)
	}
}
