package mesh_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// Every identity's NKey and certificate, then the CA, are rotated while
// four callers call two booths from before the first rotation to after
// the last: no call fails and no process restarts. Then, with the old keys
// no longer accepted and the old CA retired, every member reconnects with
// its new NKey and certificate.
func TestRotationUnderLoadFailsNoCall(t *testing.T) {
	lm := newLiveMesh(t, matrixFile, true)
	fee, feeLog := lm.join(t, "fee-calc")
	serve(t, fee, "/calculate")
	pay, payLog := lm.join(t, "payment")
	serve(t, pay, "/charge")
	gw, gwLog := lm.join(t, "gateway")
	members := []*mesh.Mesh{fee, pay, gw}
	logs := []*logRecord{feeLog, payLog, gwLog}
	oldSeed, err := os.ReadFile(pki.SeedFile(lm.dir, "gateway"))
	if err != nil {
		t.Fatal(err)
	}

	l := startLoad(caller(gw, "fee-calc", "/calculate"), caller(gw, "fee-calc", "/calculate"),
		caller(gw, "payment", "/charge"), caller(gw, "payment", "/charge"))
	time.Sleep(300 * time.Millisecond)
	start, before := time.Now(), l.ok.Load()
	all := append([]string{pki.ServerName, pki.RouteName}, lm.identities...)
	if _, err := pki.Rotate(lm.dir, all, pki.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLogged(t, logs, "NKey rotated", 1)
	if _, err := pki.RotateCA(lm.dir, all, pki.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLogged(t, logs, "certificate reloaded", 2)
	bundles := make([]int, len(logs))
	for i, r := range logs {
		bundles[i] = r.count("trust bundle reloaded")
	}
	if retired, err := pki.RetireOldCA(lm.dir, all); err != nil || !retired {
		t.Fatalf("retiring the old CA: %v, %v", retired, err)
	}
	for i, r := range logs {
		waitLogged(t, []*logRecord{r}, "trust bundle reloaded", bundles[i]+1)
	}
	elapsed, during := time.Since(start), l.ok.Load()-before
	time.Sleep(300 * time.Millisecond)
	l.end()
	if n := l.failed.Load(); n != 0 {
		t.Fatalf("%d calls failed during the rotations (of %d); the first: %v", n, l.ok.Load()+n, l.err())
	}
	if during == 0 {
		t.Fatal("no call was made during the rotations")
	}
	t.Logf("every identity, the server and route certificates, then the CA rotated under load: %d calls in %v, 0 failed", during, elapsed.Round(time.Millisecond))

	// The overlap ends: the server no longer accepts the old keys...
	expireOverlap(t, lm.dir)
	cur, err := mesh.Credentials{Dir: lm.dir}.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	stale := mesh.Credentials{Dir: lm.dir, NKeySeed: oldSeed}
	natstest.CheckFor(t, 5*time.Second, 100*time.Millisecond, func() error {
		opts, err := stale.NATSOptions("gateway")
		if err != nil {
			return err
		}
		nc, err := nats.Connect(lm.s.ClientURL(), append(opts, nats.Secure(cur), nats.MaxReconnects(0))...)
		if err == nil {
			nc.Close()
			return errors.New("the old NKey of gateway is still accepted after the overlap")
		}
		return nil
	})
	// ...and every member reconnects with its new key and new certificate.
	for _, m := range members {
		reconnects := m.Conn().Stats().Reconnects
		if err := m.Conn().ForceReconnect(); err != nil {
			t.Fatal(err)
		}
		natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
			if m.Conn().Stats().Reconnects == reconnects || !m.Conn().IsConnected() {
				return fmt.Errorf("%s has not reconnected", m.Identity())
			}
			return nil
		})
	}
	assertPresents(t, lm, members)
	if err := gw.Client().Call(t.Context(), "fee-calc", "/calculate", struct{}{}, nil); err != nil {
		t.Fatalf("a call after every member reconnected with its new credentials: %v", err)
	}
}

// waitLogged waits until each log holds at least n messages starting with
// prefix.
func waitLogged(t *testing.T, logs []*logRecord, prefix string, n int) {
	t.Helper()
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		for i, r := range logs {
			if got := r.count(prefix); got < n {
				return fmt.Errorf("member %d logged %q %d times, want %d", i, prefix, got, n)
			}
		}
		return nil
	})
}

// assertPresents checks that the server sees each member's connection
// authenticated with the member's current public NKey.
func assertPresents(t *testing.T, lm *liveMesh, members []*mesh.Mesh) {
	t.Helper()
	conns, err := lm.s.Connz(&server.ConnzOptions{Username: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		want, _ := pki.ReadPublicKey(lm.dir, m.Identity())
		found := false
		for _, c := range conns.Conns {
			if c.Name == m.Identity() {
				found = true
				if c.AuthorizedUser != want {
					t.Errorf("%s reconnected with NKey %s, want its new key %s", m.Identity(), c.AuthorizedUser, want)
				}
			}
		}
		if !found {
			t.Errorf("no connection of %s", m.Identity())
		}
	}
}
