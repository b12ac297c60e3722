package mesh_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/pkitest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

const matrixFile = "../../deployments/matrix.yaml"

// Made once by TestMain: dir holds credentials for every identity of the
// demo matrix, and demo is that matrix with their public keys.
var (
	dir  string
	demo *matrix.Matrix
)

func TestMain(m *testing.M) {
	pkitest.Main(m, "mesh", matrixFile, func(pm *pkitest.Mesh) error {
		dir, demo = pm.Dir, pm.Matrix
		return nil
	})
}

func TestErrorsNameTheMissingFile(t *testing.T) {
	tests := []struct {
		name    string
		remove  string
		call    func(d string) error
		wantErr string
	}{
		{"no seed", "payment.nk", func(d string) error { _, err := mesh.Credentials{Dir: d}.NATSOptions("payment"); return err }, "payment.nk is missing"},
		{"no key", "payment-key.pem", func(d string) error { _, err := mesh.Credentials{Dir: d}.NATSOptions("payment"); return err }, "payment-key.pem is missing"},
		{"no CA", "ca.pem", func(d string) error { _, err := mesh.Credentials{Dir: d}.ServerTLSConfig(); return err }, "ca.pem is missing"},
		{"no server cert", "server.pem", func(d string) error { _, err := mesh.Credentials{Dir: d}.ServerTLSConfig(); return err }, "server.pem is missing"},
		{"unknown identity", "", func(d string) error { _, err := mesh.Credentials{Dir: d}.NATSOptions("nobody"); return err }, "nobody.pem is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() == tt.remove {
					continue
				}
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				if err := os.WriteFile(filepath.Join(d, e.Name()), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := tt.call(d)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// The bridge's TLS config admits only clients with a mesh certificate, over
// HTTP/2, and its verified chain names who they are.
func TestServerTLSRequiresAMeshClientCertificate(t *testing.T) {
	stc, err := mesh.Credentials{Dir: dir}.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "no verified client certificate", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s", r.TLS.VerifiedChains[0][0].Subject.CommonName, r.Proto)
	}))
	srv.TLS = stc
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	gw, err := mesh.Credentials{Dir: dir}.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	noCert := gw.Clone()
	noCert.Certificates = nil
	foreignDir := t.TempDir()
	if _, err := pki.Init(foreignDir, []string{"gateway"}, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	foreign, err := mesh.Credentials{Dir: foreignDir}.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	foreign.RootCAs = gw.RootCAs // trusts our server, presents a foreign-CA certificate

	tests := []struct {
		name    string
		tc      *tls.Config
		want    string
		wantErr bool
	}{
		{"gateway certificate", gw, "gateway HTTP/2.0", false},
		{"no certificate", noCert, "", true},
		{"foreign CA certificate", foreign, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: tt.tc, ForceAttemptHTTP2: true}}
			defer c.CloseIdleConnections()
			res, err := c.Get(srv.URL)
			if tt.wantErr {
				if err == nil {
					res.Body.Close()
					t.Fatalf("request succeeded with status %d, want a refused handshake", res.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != tt.want {
				t.Errorf("got %q, want %q", body, tt.want)
			}
		})
	}
}
