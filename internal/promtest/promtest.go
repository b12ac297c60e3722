// Package promtest checks a Prometheus exposition with `promtool check
// metrics` (Debian package prometheus) in tests. Where promtool is absent the
// check is skipped with a message, except in CI (CI set), which installs it:
// there a missing promtool fails the test rather than hide the check.
package promtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Check fails t unless promtool accepts exposition without a single
// complaint; what names the exposition in the failure.
func Check(t testing.TB, what string, exposition []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed, but CI must run the metrics lint: install Debian package prometheus")
		}
		t.Skipf("promtool is not installed (Debian package prometheus): %s not checked", what)
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if _, ok := errors.AsType[*exec.ExitError](err); !ok {
			t.Fatalf("running promtool: %v", err)
		}
		t.Fatalf("promtool check metrics refuses %s (%v):\n%s", what, err, out.String())
	}
	if s := strings.TrimSpace(out.String()); s != "" {
		t.Fatalf("promtool check metrics complains about %s:\n%s", what, s)
	}
}
