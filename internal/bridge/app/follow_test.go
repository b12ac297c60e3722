package app_test

import (
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// The running bridge follows its credentials folder: a rotated server
// certificate is presented by the next handshake on its HTTPS listener and
// on its embedded NATS server, and a revoked identity's NATS connection is
// closed and refused, with no restart.
func TestTheBridgeFollowsRotationAndRevocation(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "mesh")
	if _, err := pki.Init(dir, demo.Identities(), pki.Options{}); err != nil {
		t.Fatal(err)
	}
	cfg := config(t)
	cfg.MeshDir = dir
	a, _ := start(t, cfg)
	creds := mesh.Credentials{Dir: dir}
	payment, err := nats.Connect(a.NATSURL(), append(mustOpts(t, creds, "payment"), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(payment.Close)

	if _, err := pki.Rotate(dir, []string{pki.ServerName}, pki.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	rotated, err := pki.ReadCert(pki.CertFile(dir, pki.ServerName))
	if err != nil {
		t.Fatal(err)
	}
	gw, err := creds.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		c, err := tls.Dial("tcp", a.Addr().String(), gw)
		if err != nil {
			return err
		}
		defer c.Close()
		if !c.ConnectionState().PeerCertificates[0].Equal(rotated) {
			return errors.New("the HTTPS listener still presents the old server certificate")
		}
		return nil
	})
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		nc, err := nats.Connect(a.NATSURL(), append(mustOpts(t, creds, "gateway"), nats.NoReconnect())...)
		if err != nil {
			return err
		}
		defer nc.Close()
		st, err := nc.TLSConnectionState()
		if err != nil {
			return err
		}
		if !st.PeerCertificates[0].Equal(rotated) {
			return errors.New("the embedded NATS server still presents the old server certificate")
		}
		return nil
	})

	op, err := pki.ReadOperator(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if _, err := revocation.Update(dir, op, func(l *revocation.List) (*revocation.List, error) {
		return l.Revoke("payment", "test", at)
	}); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if payment.IsConnected() {
			return errors.New("payment is still connected")
		}
		return nil
	})
	t.Logf("payment's NATS connection closed %v after its revocation", time.Since(at).Round(time.Millisecond))
	if nc, err := nats.Connect(a.NATSURL(), append(mustOpts(t, creds, "payment"), nats.NoReconnect())...); err == nil {
		nc.Close()
		t.Error("a revoked identity connected")
	}
	nc, err := nats.Connect(a.NATSURL(), append(mustOpts(t, creds, "gateway"), nats.NoReconnect())...)
	if err != nil {
		t.Fatalf("gateway after payment's revocation: %v", err)
	}
	nc.Close()
}

func mustOpts(t *testing.T, creds mesh.Credentials, identity string) []nats.Option {
	t.Helper()
	opts, err := creds.NATSOptions(identity)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}
