package pki_test

import (
	"bytes"
	"crypto"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/pki"
)

const wait = 300 * time.Millisecond

// during runs rotate in the background and calls check while it waits
// between publishing and switching; it returns rotate's error.
func during(t *testing.T, rotate func() error, check func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- rotate() }()
	time.Sleep(wait / 3)
	check()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRotatePublishesTheNewKeyThenSwitches(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, dir)
	old, _ := pki.ReadPublicKey(dir, "gateway")
	var next string
	rotate := func() error {
		_, err := pki.Rotate(dir, []string{"gateway", pki.ServerName}, pki.RotateOptions{Wait: wait})
		return err
	}
	during(t, rotate, func() {
		ov, err := pki.ReadOverlap(dir)
		if err != nil {
			t.Fatal(err)
		}
		accepted := ov.Accepted("gateway", time.Now())
		if len(accepted) != 1 || accepted[0] == old {
			t.Fatalf("while waiting, overlap accepts %v, want the next key only", accepted)
		}
		next = accepted[0]
		if pub, _ := pki.ReadPublicKey(dir, "gateway"); pub != old {
			t.Error("gateway.pub changed before the wait was over")
		}
	})
	pub, _ := pki.ReadPublicKey(dir, "gateway")
	kp, err := pki.ReadKeyPair(dir, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	if seedPub, _ := kp.PublicKey(); pub != next || seedPub != next {
		t.Errorf("after the switch gateway.pub = %s and its seed's key %s, want the published %s", pub, seedPub, next)
	}
	ov, _ := pki.ReadOverlap(dir)
	if got := ov.Accepted("gateway", time.Now().Add(pki.DefaultOverlap-5*time.Second)); !slices.Contains(got, old) {
		t.Errorf("the previous key is not accepted for the overlap: %v", got)
	}
	if got := ov.Accepted("gateway", time.Now().Add(pki.DefaultOverlap+5*time.Second)); slices.Contains(got, old) {
		t.Errorf("the previous key is still accepted after the overlap: %v", got)
	}
	after := readAll(t, dir)
	for _, name := range []string{"gateway.pem", "gateway-key.pem", "server.pem", "server-key.pem"} {
		if bytes.Equal(before[name], after[name]) {
			t.Errorf("%s not replaced", name)
		}
	}
	for _, name := range []string{"fee-calc.pem", "fee-calc.nk", "ca.pem", "ca-key.pem", "route.pem"} {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("%s changed, want kept", name)
		}
	}
	ca, _ := pki.ReadCert(pki.CAFile(dir))
	for _, name := range []string{"gateway", pki.ServerName} {
		cert, err := pki.ReadCert(pki.CertFile(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if cert.CheckSignatureFrom(ca) != nil {
			t.Errorf("%s is not signed by the CA", name)
		}
		if name == pki.ServerName && !slices.Contains(cert.DNSNames, "localhost") {
			t.Errorf("the server certificate lost its names: %v", cert.DNSNames)
		}
	}
	if id, err := readIdentity(dir, "gateway"); err != nil || id != "gateway" {
		t.Errorf("the new certificate names %q (%v), want gateway", id, err)
	}
}

func readIdentity(dir, name string) (string, error) {
	cert, err := pki.ReadCert(pki.CertFile(dir, name))
	if err != nil {
		return "", err
	}
	return pki.IdentityOf(cert)
}

func TestRotateCAIsTrustedBeforeItIssues(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	oldCA, _ := pki.ReadCert(pki.CAFile(dir))
	leaves := append([]string{pki.ServerName, pki.RouteName}, ids...)
	gwKey, _ := pki.ReadKey(pki.KeyFile(dir, "gateway"))
	rotate := func() error {
		_, err := pki.RotateCA(dir, leaves, pki.RotateOptions{Wait: wait})
		return err
	}
	during(t, rotate, func() {
		certs, err := pki.ReadCerts(pki.CAFile(dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != 2 || !certs[0].Equal(oldCA) {
			t.Fatalf("while waiting, the bundle holds %d CAs, want the old one first and the new one", len(certs))
		}
		if _, err := pki.RetireOldCA(dir, leaves); err == nil || !strings.Contains(err.Error(), "under way") {
			t.Errorf("retiring during a CA rotation: %v, want refused", err)
		}
	})
	certs, _ := pki.ReadCerts(pki.CAFile(dir))
	if len(certs) != 2 || certs[0].Equal(oldCA) || !certs[1].Equal(oldCA) {
		t.Fatalf("after the switch, want the new CA first and the old one second (%d CAs)", len(certs))
	}
	ca, err := pki.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := ca.Key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(ca.Cert.PublicKey) {
		t.Error("ca-key.pem is not the new CA's key")
	}
	for _, name := range leaves {
		cert, _ := pki.ReadCert(pki.CertFile(dir, name))
		if cert.CheckSignatureFrom(certs[0]) != nil {
			t.Errorf("%s is not signed by the new CA", name)
		}
	}
	if k, _ := pki.ReadKey(pki.KeyFile(dir, "gateway")); !k.(interface{ Equal(crypto.PrivateKey) bool }).Equal(gwKey) {
		t.Error("a CA rotation changed gateway's key, want it kept")
	}
	for _, f := range []string{"ca-next.pem", "ca-next-key.pem"} {
		if _, err := os.Stat(dir + "/" + f); !os.IsNotExist(err) {
			t.Errorf("%s left behind (%v)", f, err)
		}
	}
	if retired, err := pki.RetireOldCA(dir, leaves); err != nil || !retired {
		t.Fatalf("retire: %v, %v", retired, err)
	}
	if certs, _ := pki.ReadCerts(pki.CAFile(dir)); len(certs) != 1 || certs[0].Equal(oldCA) {
		t.Errorf("after retiring, the bundle holds %d CAs, want the new one only", len(certs))
	}
	if retired, err := pki.RetireOldCA(dir, leaves); err != nil || retired {
		t.Errorf("retiring again: %v, %v, want nothing to do", retired, err)
	}
}

func TestRetireOldCARefusesWhileALeafIsSignedByIt(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.RotateCA(dir, []string{pki.ServerName}, pki.RotateOptions{Wait: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	_, err := pki.RetireOldCA(dir, append([]string{pki.ServerName}, ids...))
	if err == nil || !strings.Contains(err.Error(), "fee-calc.pem is not signed by the current CA") {
		t.Errorf("err = %v, want one naming fee-calc.pem", err)
	}
}

func TestRotateRefusesWhatItCannotDo(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		names   []string
		opts    pki.RotateOptions
		wantErr string
	}{
		{"nothing", nil, pki.RotateOptions{}, "nothing to rotate"},
		{"unknown identity", []string{"payment"}, pki.RotateOptions{}, "payment.pub"},
		{"bad name", []string{"Pay.ment"}, pki.RotateOptions{}, "identity"},
		{"short overlap", []string{"gateway"}, pki.RotateOptions{Overlap: time.Minute}, "at least 1m10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pki.Rotate(dir, tt.names, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
