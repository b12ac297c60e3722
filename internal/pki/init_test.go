package pki_test

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/pki"
)

var ids = []string{"fee-calc", "gateway"}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestInitWritesEveryFileWithItsMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".mesh")
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode = %o, want 700", got)
	}
	want := map[string]os.FileMode{
		"ca.pem": 0o644, "ca-key.pem": 0o600,
		"server.pem": 0o644, "server-key.pem": 0o600,
		"route.pem": 0o644, "route-key.pem": 0o600,
		"operator.nk": 0o600, "operator.pub": 0o644,
	}
	for _, id := range ids {
		want[id+".pem"], want[id+"-key.pem"], want[id+".nk"], want[id+".pub"] = 0o644, 0o600, 0o600, 0o644
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		t.Errorf("got %d files, want %d", len(entries), len(want))
	}
	for name, mode := range want {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := st.Mode().Perm(); got != mode {
			t.Errorf("%s mode = %o, want %o", name, got, mode)
		}
	}
}

func TestInitIsIdempotentAndRotateReplaces(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	first := readAll(t, dir)
	rep, err := pki.Init(dir, ids, pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Created) != 0 {
		t.Errorf("second run created %v, want nothing", rep.Created)
	}
	second := readAll(t, dir)
	for name, b := range first {
		if !bytes.Equal(b, second[name]) {
			t.Errorf("%s changed on a second run", name)
		}
	}
	if _, err := pki.Init(dir, ids, pki.Options{Rotate: true}); err != nil {
		t.Fatal(err)
	}
	third := readAll(t, dir)
	for name, b := range first {
		if strings.HasPrefix(name, "operator.") {
			// The operator key signs the revocation list: kept.
			if !bytes.Equal(b, third[name]) {
				t.Errorf("%s replaced by rotate, want kept", name)
			}
			continue
		}
		if bytes.Equal(b, third[name]) {
			t.Errorf("%s unchanged by rotate", name)
		}
	}
}

func TestInitAddsWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, []string{"fee-calc"}, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, dir)
	rep, err := pki.Init(dir, []string{"fee-calc", "payment"}, pki.Options{SANs: []string{"mesh.example", "10.1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	wantCreated := []string{"server", "route", "payment", "payment.nk"}
	if !slices.Equal(rep.Created, wantCreated) {
		t.Errorf("created %v, want %v", rep.Created, wantCreated)
	}
	after := readAll(t, dir)
	for _, name := range []string{"ca.pem", "fee-calc.pem", "fee-calc.nk", "server-key.pem"} {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("%s changed, want kept", name)
		}
	}
	cert, err := pki.ReadCert(pki.CertFile(dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.DNSNames, "mesh.example") || !slices.ContainsFunc(cert.IPAddresses, net.ParseIP("10.1.2.3").Equal) {
		t.Errorf("server SANs = %v %v, want the new names", cert.DNSNames, cert.IPAddresses)
	}
}

func TestCertificatesSayWhatTheyAreFor(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		wantEKU []x509.ExtKeyUsage
		wantID  string
	}{
		{"server", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, ""},
		{"route", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, ""},
		{"gateway", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, "gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := pki.ReadCert(pki.CertFile(dir, tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cert.ExtKeyUsage, tt.wantEKU) {
				t.Errorf("EKU = %v, want %v", cert.ExtKeyUsage, tt.wantEKU)
			}
			got, err := pki.IdentityOf(cert)
			if tt.wantID == "" {
				if err == nil {
					t.Errorf("IdentityOf = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.wantID {
				t.Errorf("IdentityOf = %q, %v; want %q", got, err, tt.wantID)
			}
		})
	}
}

func TestInitRefusesBadIdentities(t *testing.T) {
	tests := []struct {
		name    string
		ids     []string
		wantErr string
	}{
		{"reserved", []string{"server"}, "reserved"},
		{"duplicate", []string{"payment", "payment"}, "twice"},
		{"bad name", []string{"Payment"}, "must match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pki.Init(t.TempDir(), tt.ids, pki.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestKeysReadBack(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, ids, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	keys, err := pki.PublicKeys(dir, ids)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := pki.ReadKeyPair(dir, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := kp.PublicKey(); got != keys["gateway"] {
		t.Errorf("seed's public key %s, .pub says %s", got, keys["gateway"])
	}
	if keys["gateway"] == keys["fee-calc"] {
		t.Error("two identities share an NKey")
	}
	if _, err := pki.ReadKeyPair(dir, "payment"); err == nil || !strings.Contains(err.Error(), "payment") {
		t.Errorf("missing seed error = %v, want one naming payment", err)
	}
}
