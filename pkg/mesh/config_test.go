package mesh_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

func TestConfigFromEnv(t *testing.T) {
	for k, v := range map[string]string{
		"HMS_IDENTITY": "fee-calc", "HMS_MESH_DIR": "/m", "HMS_CA_FILE": "/s/ca", "HMS_CERT_FILE": "/s/cert",
		"HMS_KEY_FILE": "/s/key", "HMS_NKEY_FILE": "/s/nk", "HMS_KEYS_DIR": "/k", "HMS_MATRIX": "/x/matrix.yaml",
		"HMS_NATS_URL": "nats://a:4222,nats://b:4222", "HMS_INSTANCE": "fee-1",
	} {
		t.Setenv(k, v)
	}
	got := mesh.ConfigFromEnv()
	want := mesh.Config{Identity: "fee-calc", MatrixFile: "/x/matrix.yaml", NATSURL: "nats://a:4222,nats://b:4222", Instance: "fee-1",
		Credentials: mesh.Credentials{Dir: "/m", CAFile: "/s/ca", CertFile: "/s/cert", KeyFile: "/s/key", NKeyFile: "/s/nk", KeysDir: "/k"}}
	if got.Identity != want.Identity || got.MatrixFile != want.MatrixFile || got.NATSURL != want.NATSURL ||
		got.Instance != want.Instance || got.Credentials.Dir != want.Credentials.Dir || got.Credentials.CAFile != want.Credentials.CAFile ||
		got.Credentials.CertFile != want.Credentials.CertFile || got.Credentials.KeyFile != want.Credentials.KeyFile ||
		got.Credentials.NKeyFile != want.Credentials.NKeyFile || got.Credentials.KeysDir != want.Credentials.KeysDir {
		t.Errorf("ConfigFromEnv() = %+v, want %+v", got, want)
	}
}

// Credentials mounted anywhere (each file by path, under names of the
// platform's choosing) or given as bytes join the mesh as the folder does.
func TestCredentialsFromFilesAnywhereOrBytes(t *testing.T) {
	s := secureServer(t)
	booth := join(t, s, "fee-calc")
	b, err := booth.NewBooth(boothConfig())
	if err != nil {
		t.Fatal(err)
	}
	handleFee(t, b)
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	mounted := t.TempDir()
	files := map[string]string{"ca.pem": "trust", "gateway.pem": "tls.crt", "gateway-key.pem": "tls.key", "gateway.nk": "nkey"}
	for from, to := range files {
		if err := os.WriteFile(filepath.Join(mounted, to), read(from), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, creds := range map[string]mesh.Credentials{
		"files": {CAFile: filepath.Join(mounted, "trust"), CertFile: filepath.Join(mounted, "tls.crt"),
			KeyFile: filepath.Join(mounted, "tls.key"), NKeyFile: filepath.Join(mounted, "nkey"), KeysDir: dir},
		"bytes": {CAPEM: read("ca.pem"), CertPEM: read("gateway.pem"), KeyPEM: read("gateway-key.pem"), NKeySeed: read("gateway.nk"), KeysDir: dir},
	} {
		t.Run(name, func(t *testing.T) {
			gw := join(t, s, "gateway", func(c *mesh.Config) { c.Credentials = creds })
			var got feeReply
			if err := gw.Client().Call(t.Context(), "fee-calc", "/calculate", feeRequest{"professional-engineer"}, &got); err != nil || got.Amount != 125 {
				t.Errorf("call: %+v, %v", got, err)
			}
		})
	}
}

// A missing or wrong input is an error naming it, with its environment
// variable, and nothing is connected.
func TestConnectNamesWhatIsMissingOrWrong(t *testing.T) {
	s := secureServer(t)
	good := mesh.Config{Identity: "gateway", Credentials: mesh.Credentials{Dir: dir}, MatrixFile: matrixFile, NATSURL: s.ClientURL()}
	without := func(f func(*mesh.Config)) mesh.Config { c := good; f(&c); return c }
	noSeed := t.TempDir()
	for _, name := range []string{"ca.pem", "gateway.pem", "gateway-key.pem"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		_ = os.WriteFile(filepath.Join(noSeed, name), data, 0o600)
	}
	tests := []struct {
		name    string
		cfg     mesh.Config
		want    error
		wantMsg string
	}{
		{"no identity", without(func(c *mesh.Config) { c.Identity = "" }), mesh.ErrConfig, "HMS_IDENTITY"},
		{"bad identity", without(func(c *mesh.Config) { c.Identity = "Fee Calc" }), mesh.ErrConfig, `identity "Fee Calc"`},
		{"not in the matrix", without(func(c *mesh.Config) { c.Identity = "astrologer" }), mesh.ErrConfig, `identity "astrologer" is not in the matrix`},
		{"no matrix", without(func(c *mesh.Config) { c.MatrixFile = "" }), mesh.ErrConfig, "HMS_MATRIX"},
		{"a matrix that is not there", without(func(c *mesh.Config) { c.MatrixFile = filepath.Join(noSeed, "m.yaml") }), mesh.ErrConfig, "m.yaml"},
		{"no credentials at all", without(func(c *mesh.Config) { c.Credentials = mesh.Credentials{KeysDir: dir} }), mesh.ErrNoCredentials, "HMS_CA_FILE"},
		{"no NKey seed", without(func(c *mesh.Config) { c.Credentials = mesh.Credentials{Dir: noSeed, KeysDir: dir} }), mesh.ErrNoCredentials, "gateway.nk is missing (run meshctl init)"},
		{"no public keys", without(func(c *mesh.Config) { c.Credentials = mesh.Credentials{Dir: noSeed} }), mesh.ErrNoCredentials, ".pub"},
		{"no server", without(func(c *mesh.Config) { c.NATSURL = "nats://127.0.0.1:1" }), nil, "NATS at nats://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mesh.Connect(t.Context(), tt.cfg)
			if err == nil {
				_ = m.Close(t.Context())
				t.Fatal("connected, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want %v naming %q", err, tt.want, tt.wantMsg)
			}
		})
	}
}
