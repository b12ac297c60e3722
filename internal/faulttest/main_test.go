package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	var err error
	binDir, err = os.MkdirTemp("", "faulttest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// runnerBinary returns the path of booth-runner, built on first use once
// for the whole test binary.
func runnerBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "booth-runner")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, "github.com/hms-svc/hms-svc/cmd/booth-runner").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building booth-runner: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}
