package kubesecrets_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hms-svc/hms-svc/internal/kubesecrets"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

const matrixFile = "../../deployments/matrix.yaml"

// mesh makes the demo matrix's credentials in a new folder.
func mesh(t *testing.T) (*matrix.Matrix, string) {
	t.Helper()
	m, err := matrix.Load(matrixFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), ".mesh")
	if _, err := pki.Init(dir, m.Identities(), pki.Options{}); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// decoded is a Secret manifest read back.
type decoded struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Type       string `yaml:"type"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
}

// Each identity's Secret holds its own certificate, key and seed, the CA
// certificate and the public NKeys, and nothing of another identity; the
// bridge's adds the server certificate; the NATS Secret holds the servers'
// certificates and keys include, and no seed. No Secret holds the CA key.
func TestSecretsHoldOnlyWhatTheirPodsNeed(t *testing.T) {
	m, dir := mesh(t)
	secrets, err := kubesecrets.Secrets(m, kubesecrets.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(secrets), len(m.Identities())+1; got != want {
		t.Fatalf("%d Secrets, want %d (one per identity and the NATS one)", got, want)
	}
	caKey, err := os.ReadFile(pki.KeyFile(dir, pki.CAName))
	if err != nil {
		t.Fatal(err)
	}
	var pubs []string
	for _, id := range m.Identities() {
		pubs = append(pubs, id+".pub")
	}
	y, err := kubesecrets.Render(secrets, "hms")
	if err != nil {
		t.Fatal(err)
	}
	docs := decodeAll(t, y)
	if len(docs) != len(secrets) {
		t.Fatalf("Render gave %d documents for %d Secrets", len(docs), len(secrets))
	}
	for i, s := range secrets {
		want := []string{"ca.pem"}
		switch {
		case s.Identity == "bridge":
			want = append(want, "bridge.pem", "bridge-key.pem", "bridge.nk", "server.pem", "server-key.pem")
			want = append(want, pubs...)
		case s.Identity != "":
			want = append(want, s.Identity+".pem", s.Identity+"-key.pem", s.Identity+".nk")
			want = append(want, pubs...)
		default:
			want = append(want, "server.pem", "server-key.pem", "route.pem", "route-key.pem", "nkeys.conf")
		}
		slices.Sort(want)
		d := docs[i]
		got := make([]string, 0, len(d.Data))
		for k, v := range d.Data {
			got = append(got, k)
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("%s: %s is not base64: %v", s.Name, k, err)
			}
			if file, err := os.ReadFile(filepath.Join(dir, k)); err == nil && !bytes.Equal(raw, file) {
				t.Errorf("%s: %s differs from the folder's file", s.Name, k)
			}
			if bytes.Contains(raw, bytes.TrimSpace(caKey)) {
				t.Errorf("%s: %s holds the CA key", s.Name, k)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", s.Name, got, want)
		}
		if d.Kind != "Secret" || d.APIVersion != "v1" || d.Type != "Opaque" || d.Metadata.Name != s.Name || d.Metadata.Namespace != "hms" {
			t.Errorf("%s: header %s %s %s %s/%s", s.Name, d.APIVersion, d.Kind, d.Type, d.Metadata.Namespace, d.Metadata.Name)
		}
	}
	if got := secrets[len(secrets)-1].Name; got != kubesecrets.NATSSecret(kubesecrets.DefaultPrefix) || got != "hms-svc-nats-tls" {
		t.Errorf("last Secret %q, want the NATS one, hms-svc-nats-tls", got)
	}
	if got := kubesecrets.IdentitySecret("hms-svc", "fee-calc"); secrets[slices.Index(m.Identities(), "fee-calc")].Name != got {
		t.Errorf("fee-calc's Secret is not named %s", got)
	}
	if keys := string(secrets[len(secrets)-1].Files["nkeys.conf"]); !strings.Contains(keys, "NKEY_FEE_CALC:") {
		t.Errorf("nkeys.conf lacks NKEY_FEE_CALC:\n%s", keys)
	}
}

func decodeAll(t *testing.T, y []byte) []decoded {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(y))
	dec.KnownFields(true)
	var out []decoded
	for {
		var d decoded
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding the manifests: %v", err)
		}
		out = append(out, d)
	}
}

// --identity limits the identity Secrets; WriteFiles keeps them private.
func TestSomeIdentitiesWrittenPrivately(t *testing.T) {
	m, dir := mesh(t)
	secrets, err := kubesecrets.Secrets(m, kubesecrets.Options{Dir: dir, Prefix: "mesh", Identities: []string{"payment"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range secrets {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"mesh-mesh-payment", "mesh-nats-tls"}) {
		t.Fatalf("Secrets %v, want payment's and the NATS one", names)
	}
	out := filepath.Join(t.TempDir(), "secrets")
	paths, err := kubesecrets.WriteFiles(secrets, "", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v mode %v, want 0600", p, err, st.Mode().Perm())
		}
	}
}

func TestSecretsRefuse(t *testing.T) {
	m, dir := mesh(t)
	if err := os.Remove(pki.SeedFile(dir, "payment")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    kubesecrets.Options
		wantErr string
	}{
		{"unknown identity", kubesecrets.Options{Dir: dir, Identities: []string{"nobody"}}, `identity "nobody" is not in the matrix`},
		{"missing seed", kubesecrets.Options{Dir: dir, Identities: []string{"payment"}}, "payment.nk"},
		{"bad prefix", kubesecrets.Options{Dir: dir, Prefix: "Bad_Prefix"}, `prefix "Bad_Prefix"`},
		{"no folder", kubesecrets.Options{Dir: filepath.Join(dir, "none")}, "run meshctl init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubesecrets.Secrets(m, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}
