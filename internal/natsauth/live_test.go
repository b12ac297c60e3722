package natsauth_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// A server Live follows takes a rotated key and a new CA and server
// certificate without dropping a connection, accepts an identity's old and
// new keys during the overlap and only the new one after, and closes and
// refuses a revoked identity.
func TestLiveFollowsTheFolderWithoutDroppingConnections(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mesh")
	if _, err := pki.Init(dir, demo.Identities(), pki.Options{}); err != nil {
		t.Fatal(err)
	}
	live := natsauth.NewLive(demo, dir, slog.New(slog.DiscardHandler))
	s := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(), RelaxedSync: true, Tune: live.Tune})
	creds := mesh.Credentials{Dir: dir}
	dial := func(c mesh.Credentials, identity string) (*nats.Conn, error) {
		opts, err := c.NATSOptions(identity)
		if err != nil {
			t.Fatal(err)
		}
		return nats.Connect(s.ClientURL(), append(opts, nats.NoReconnect())...)
	}
	conns := map[string]*nats.Conn{}
	for _, id := range []string{"gateway", "fee-calc", "payment"} {
		nc, err := dial(creds, id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		t.Cleanup(nc.Close)
		conns[id] = nc
	}
	oldGateway := creds
	var err error
	if oldGateway.NKeySeed, err = os.ReadFile(pki.SeedFile(dir, "gateway")); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.Rotate(dir, []string{"gateway", pki.ServerName}, pki.RotateOptions{Wait: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.RotateCA(dir, []string{pki.ServerName, "gateway"}, pki.RotateOptions{Wait: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(s); err != nil {
		t.Fatal(err)
	}
	for _, seed := range []mesh.Credentials{creds, oldGateway} {
		nc, err := dial(seed, "gateway")
		if err != nil {
			t.Fatalf("during the overlap, gateway with a new certificate and either key: %v", err)
		}
		nc.Close()
	}

	// The overlap ends: only the new key.
	if err := os.WriteFile(filepath.Join(dir, pki.OverlapFile), []byte(`{"version":1,"keys":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(s); err != nil {
		t.Fatal(err)
	}
	if nc, err := dial(oldGateway, "gateway"); err == nil {
		nc.Close()
		t.Error("after the overlap, gateway's old key is still accepted")
	}

	op, err := pki.ReadOperator(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := revocation.Update(dir, op, func(l *revocation.List) (*revocation.List, error) {
		return l.Revoke("payment", "", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(s); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if conns["payment"].IsConnected() {
			return errors.New("payment is still connected")
		}
		return nil
	})
	if nc, err := dial(creds, "payment"); err == nil {
		nc.Close()
		t.Error("a revoked identity connected")
	}
	for _, id := range []string{"gateway", "fee-calc"} {
		if err := conns[id].Flush(); err != nil || conns[id].Stats().Reconnects != 0 {
			t.Errorf("%s's connection did not survive the reloads: %v", id, err)
		}
	}
}
