// Package storestest provisions the mesh's stores for tests that run booths
// against a server of their own, as the bridge does at start in a real
// mesh.
package storestest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
)

// Provision creates every store of stores.Declare(o) over nc, which the
// server must let provision (any connection of a server without
// authorization, the provisioner's on the mesh's), and fails the test if
// it cannot within 30 s.
func Provision(tb testing.TB, nc *nats.Conn, o stores.Options) {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := stores.Provision(ctx, js, o, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		tb.Fatalf("provisioning the stores: %v", err)
	}
}
