package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/matrix"
)

const matrixPath = "../../deployments/matrix.yaml"

func meshctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String() + errb.String(), code
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestInitIsIdempotentAndRotates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".mesh")
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	first := snapshot(t, dir)
	for _, f := range []string{"ca.pem", "ca-key.pem", "server.pem", "gateway.pem", "gateway-key.pem", "gateway.nk", "bridge.nk", "nkeys.conf"} {
		if _, ok := first[f]; !ok {
			t.Errorf("init wrote no %s", f)
		}
	}
	for name := range first {
		st, _ := os.Stat(filepath.Join(dir, name))
		secret := strings.HasSuffix(name, "-key.pem") || strings.HasSuffix(name, ".nk")
		if secret && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o, want 600", name, st.Mode().Perm())
		}
	}
	out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath)
	if code != 0 || strings.Contains(out, "created") {
		t.Fatalf("second init: %d %q, want nothing created", code, out)
	}
	second := snapshot(t, dir)
	for name, b := range first {
		if second[name] != b {
			t.Errorf("second init changed %s", name)
		}
	}
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath, "--rotate"); code != 0 {
		t.Fatalf("rotate: %d %s", code, out)
	}
	third := snapshot(t, dir)
	for _, f := range []string{"ca-key.pem", "gateway-key.pem", "gateway.nk", "server-key.pem"} {
		if third[f] == first[f] {
			t.Errorf("rotate kept %s", f)
		}
	}
}

func TestNATSConfigPrintsAConfigTheServerTakes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".mesh")
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	conf, code := meshctl(t, "nats-config", "--dir", dir, "--matrix", matrixPath)
	if code != 0 {
		t.Fatalf("nats-config: %d %s", code, conf)
	}
	m, err := matrix.Load(matrixPath)
	if err != nil {
		t.Fatal(err)
	}
	if opts, want := serverOptions(t, conf), len(m.Identities()); len(opts.Nkeys) != want {
		t.Errorf("config has %d NKey users, want one per identity of the matrix: %d", len(opts.Nkeys), want)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"bad flag", []string{"init", "--nope"}, 2, "nope"},
		{"missing matrix", []string{"init", "--dir", "x", "--matrix", "/nonexistent.yaml"}, 1, "nonexistent"},
		{"no keys yet", []string{"nats-config", "--dir", "/nonexistent", "--matrix", matrixPath}, 1, "run meshctl init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := meshctl(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("code %d, out %q; want %d and %q", code, out, tt.wantCode, tt.wantOut)
			}
		})
	}
}
