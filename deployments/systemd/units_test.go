// Package systemd_test checks the unit files beside it with systemd's own
// tools: `systemd-analyze verify` (Debian package systemd) on each unit, in
// a root folder laid out as a VM install with the real binaries built from
// this checkout, and `systemd-analyze security --offline` for their
// exposure. Where systemd-analyze is absent the checks are skipped with a
// message, except in CI (CI set), which installs it.
package systemd_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// units are the unit names verified: the template once per kind of
// instance (audit-log has a drop-in of its own).
var units = []string{"hms-svc-bridge.service", "hms-svc-booth@fee-calc.service", "hms-svc-booth@audit-log.service", "hms-svc-nats.service"}

// maxExposure is the highest `systemd-analyze security` score accepted
// (0 is fully locked down, 10 is fully exposed; under 2 is "OK").
const maxExposure = 2.0

func analyzer(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is not installed, but CI must check the units: install Debian package systemd")
		}
		t.Skip("systemd-analyze is not installed (Debian package systemd): the units are not checked")
	}
	return path
}

// The install root the tests share, made once by installRoot.
var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if rootDir != "" {
		os.RemoveAll(rootDir)
	}
	os.Exit(code)
}

// installRoot returns a VM install laid out in a temporary folder, made on
// first use: the units in /etc/systemd/system, the distribution's units
// (the targets ours name), and the binaries the units run, built from this
// checkout.
func installRoot(t *testing.T) string {
	t.Helper()
	rootOnce.Do(func() { rootDir, rootErr = makeRoot() })
	if rootErr != nil {
		t.Fatal(rootErr)
	}
	return rootDir
}

func makeRoot() (string, error) {
	root, err := os.MkdirTemp("", "hms-svc-units")
	if err != nil {
		return "", err
	}
	system := filepath.Join(root, "etc", "systemd", "system")
	if err := os.CopyFS(system, os.DirFS(".")); err != nil {
		return root, err
	}
	if err := os.CopyFS(filepath.Join(root, "usr", "lib", "systemd", "system"), os.DirFS("/usr/lib/systemd/system")); err != nil {
		return root, fmt.Errorf("copying the distribution's units: %w", err)
	}
	bin := filepath.Join(root, "usr", "local", "bin") + "/"
	for _, args := range [][]string{
		{"-o", bin, "../../cmd/broker-bridge", "../../cmd/booth-runner"},
		{"-o", bin + "nats-server", "github.com/nats-io/nats-server/v2"},
	} {
		if out, err := exec.Command("go", append([]string{"build"}, args...)...).CombinedOutput(); err != nil {
			return root, fmt.Errorf("go build %v: %w\n%s", args, err, out)
		}
	}
	// ExecReload of the NATS unit runs the system's kill.
	kill, err := exec.LookPath("kill")
	if err != nil {
		return root, err
	}
	data, err := os.ReadFile(kill)
	if err != nil {
		return root, err
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		return root, err
	}
	return root, os.WriteFile(filepath.Join(root, "bin", "kill"), data, 0o755)
}

// Every unit passes `systemd-analyze verify` without a word: an unknown or
// misspelt setting, a missing binary or a bad specifier is only a warning
// there, so any output fails the test too.
func TestUnitsVerify(t *testing.T) {
	sa := analyzer(t)
	root := installRoot(t)
	for _, u := range units {
		t.Run(u, func(t *testing.T) {
			out, err := exec.Command(sa, "verify", "--root="+root, u).CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
			}
		})
	}
	t.Run("a unit with a misspelt setting", func(t *testing.T) {
		bad := filepath.Join(root, "etc", "systemd", "system", "hms-svc-bad.service")
		t.Cleanup(func() { os.Remove(bad) })
		if err := os.WriteFile(bad, []byte("[Service]\nExecStart=/usr/local/bin/booth-runner\nProtectSystm=strict\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(sa, "verify", "--root="+root, "hms-svc-bad.service").CombinedOutput()
		if !bytes.Contains(out, []byte("ProtectSystm")) {
			t.Errorf("systemd-analyze verify says nothing of a misspelt setting: %q", out)
		}
	})
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// Every unit's exposure, as `systemd-analyze security` scores it, is at
// most maxExposure; the test logs each score.
func TestUnitsExposure(t *testing.T) {
	sa := analyzer(t)
	root := installRoot(t)
	for _, u := range units {
		out, err := exec.Command(sa, "security", "--offline=yes", "--root="+root, u).CombinedOutput()
		m := exposureRE.FindSubmatch(out)
		if m == nil {
			t.Fatalf("systemd-analyze security %s: %v, no score in:\n%s", u, err, out)
		}
		score, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: exposure %.1f", u, score)
		if score > maxExposure {
			t.Errorf("%s: exposure %.1f, want at most %.1f:\n%s", u, score, maxExposure, out)
		}
	}
}

// execRE finds a unit's ExecStart command line.
var execRE = regexp.MustCompile(`(?m)^ExecStart=(\S+)(.*)$`)

// Every --flag a unit passes is one its binary has, as its -h lists them.
func TestUnitsPassFlagsTheBinariesHave(t *testing.T) {
	root := installRoot(t)
	flagRE := regexp.MustCompile(`--([a-z][a-z0-9-]*)`)
	for _, file := range unitFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range execRE.FindAllStringSubmatch(string(data), -1) {
			bin := filepath.Join(root, m[1])
			help, _ := exec.Command(bin, "-h").CombinedOutput()
			for _, f := range flagRE.FindAllStringSubmatch(m[2], -1) {
				if !regexp.MustCompile(`(?m)^\s+(-\w,\s+)?--?` + regexp.QuoteMeta(f[1]) + `\b`).Match(help) {
					t.Errorf("%s: %s has no flag --%s", file, m[1], f[1])
				}
			}
		}
	}
}

// unitFiles lists the unit files and drop-ins of this folder.
func unitFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".service") || strings.HasSuffix(p, ".conf")) {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("no unit files here: %v", err)
	}
	return out
}

// The bridge and the booths load every identity's public NKey, which they
// check tokens with: one LoadCredential line per identity of the matrix.
func TestUnitsLoadEveryPublicKey(t *testing.T) {
	m, err := matrix.Load("../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := m.Identities()
	slices.Sort(want)
	pubRE := regexp.MustCompile(`(?m)^LoadCredential=([a-z0-9-]+)\.pub:/etc/hms-svc/mesh/([a-z0-9-]+)\.pub$`)
	for _, file := range []string{"hms-svc-bridge.service", "hms-svc-booth@.service"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range pubRE.FindAllStringSubmatch(string(data), -1) {
			if m[1] != m[2] {
				t.Errorf("%s: credential %s.pub loads %s.pub", file, m[1], m[2])
			}
			got = append(got, m[1])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s loads the public NKeys of %v, want the matrix's identities %v", file, got, want)
		}
	}
	if _, err := os.Stat("../matrix.yaml"); errors.Is(err, fs.ErrNotExist) {
		t.Fatal("no matrix")
	}
}
