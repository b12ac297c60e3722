package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
)

func initDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".mesh")
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	return dir
}

// keyInConf returns the key nkeys.conf gives identity.
func keyInConf(t *testing.T, dir, identity string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, KeysFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, natsauth.VarName(identity)+": "); ok {
			return strings.Trim(v, `"`)
		}
	}
	t.Fatalf("nkeys.conf has no key for %s", identity)
	return ""
}

func TestRevokeListsAndUndoes(t *testing.T) {
	dir := initDir(t)
	pub, _ := pki.ReadPublicKey(dir, "payment")
	if out, code := meshctl(t, "revoke", "--dir", dir, "--matrix", matrixPath, "payment", "--reason", "seed leaked"); code != 0 || !strings.Contains(out, "payment is revoked (list 1") {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if out, code := meshctl(t, "revoke", "--dir", dir, "--list"); code != 0 || !strings.Contains(out, "payment") || !strings.Contains(out, "seed leaked") {
		t.Errorf("--list: %d %s", code, out)
	}
	if got := keyInConf(t, dir, "payment"); got == pub || got == "" {
		t.Errorf("nkeys.conf still lets payment in (%s), want a key nobody holds", got)
	}
	refusals(t, []string{"revoke", "--dir", dir, "--matrix", matrixPath}, []refusal{
		{"twice", []string{"payment"}, 1, "revoked already"},
		{"unknown identity", []string{"nobody"}, 1, `"nobody" is not an identity`},
		{"no identity", nil, 2, "name one identity"},
		{"undo what is not revoked", []string{"--undo", "gateway"}, 1, "gateway is not revoked"},
		{"list with a name", []string{"--list", "gateway"}, 2, "--list takes no identity"},
	})
	if out, code := meshctl(t, "revoke", "--dir", dir, "--matrix", matrixPath, "--undo", "payment"); code != 0 || !strings.Contains(out, "list 2") {
		t.Fatalf("undo: %d %s", code, out)
	}
	if got := keyInConf(t, dir, "payment"); got != pub {
		t.Errorf("after undo nkeys.conf gives payment %s, want its key", got)
	}
	if out, _ := meshctl(t, "revoke", "--dir", dir, "--list"); !strings.Contains(out, "no identity is revoked (list 2)") {
		t.Errorf("--list after undo: %s", out)
	}
	// A list someone edited is refused, not trusted.
	if err := os.WriteFile(revocation.File(dir), []byte("eyJhbGciOiJub25lIn0.e30."), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := meshctl(t, "revoke", "--dir", dir, "--list"); code != 1 || !strings.Contains(out, "bad revocation list") {
		t.Errorf("--list of a forged list: %d %s", code, out)
	}
}

func TestRotateCommands(t *testing.T) {
	dir := initDir(t)
	before := snapshot(t, dir)
	if out, code := meshctl(t, "rotate", "--dir", dir, "--matrix", matrixPath, "gateway", "--wait", "10ms"); code != 0 || !strings.Contains(out, "rotated in") {
		t.Fatalf("rotate gateway: %d %s", code, out)
	}
	after := snapshot(t, dir)
	for _, f := range []string{"gateway.nk", "gateway.pub", "gateway.pem", "gateway-key.pem"} {
		if after[f] == before[f] {
			t.Errorf("%s not rotated", f)
		}
	}
	if after["fee-calc.nk"] != before["fee-calc.nk"] {
		t.Error("fee-calc.nk rotated, want kept")
	}
	if got := keyInConf(t, dir, "gateway"); got != strings.TrimSpace(after["gateway.pub"]) {
		t.Errorf("nkeys.conf gives gateway %s, want its new key", got)
	}
	if out, code := meshctl(t, "rotate", "--dir", dir, "--matrix", matrixPath, "--ca", "--wait", "10ms"); code != 0 || !strings.Contains(out, "--retire-old-ca") {
		t.Fatalf("rotate --ca: %d %s", code, out)
	}
	if certs, _ := pki.ReadCerts(pki.CAFile(dir)); len(certs) != 2 {
		t.Errorf("after --ca the bundle holds %d CAs, want 2", len(certs))
	}
	if out, code := meshctl(t, "rotate", "--dir", dir, "--matrix", matrixPath, "--retire-old-ca"); code != 0 || !strings.Contains(out, "retired") {
		t.Fatalf("--retire-old-ca: %d %s", code, out)
	}
	if certs, _ := pki.ReadCerts(pki.CAFile(dir)); len(certs) != 1 {
		t.Errorf("after retiring the bundle holds %d CAs, want 1", len(certs))
	}
	refusals(t, []string{"rotate", "--dir", dir, "--matrix", matrixPath}, []refusal{
		{"nothing", nil, 2, "name the identities to rotate"},
		{"two modes", []string{"--all", "--ca"}, 2, "name the identities to rotate"},
		{"unknown identity", []string{"nobody"}, 1, `"nobody" is not an identity`},
		{"short overlap", []string{"--overlap", "1m", "gateway"}, 1, "at least 1m10s"},
	})
}

// refusal is a command line meshctl refuses, with its exit code and what
// its output says.
type refusal struct {
	name    string
	args    []string
	want    int
	wantOut string
}

// refusals runs each refusal's args after prefix.
func refusals(t *testing.T, prefix []string, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := meshctl(t, append(prefix, tt.args...)...)
			if code != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Errorf("code %d, out %q; want %d and %q", code, out, tt.want, tt.wantOut)
			}
		})
	}
}
