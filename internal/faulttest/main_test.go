package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hms-svc/hms-svc/internal/pkitest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Made once for the test binary by TestMain.
var (
	// tmpDir holds the booth-runner binary and the credentials.
	tmpDir string
	// credsDir is the mesh's credentials folder, as meshctl init writes it.
	credsDir string
	// matrixFile is the demo matrix; demo is it with the keys in credsDir.
	matrixFile string
	demo       *matrix.Matrix

	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	file, err := filepath.Abs(filepath.Join("..", "..", "deployments", "matrix.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		os.Exit(1)
	}
	pkitest.Main(m, "faulttest-", file, func(pm *pkitest.Mesh) error {
		tmpDir, credsDir, matrixFile, demo = pm.Root, pm.Dir, file, pm.Matrix
		return nil
	})
}

// runnerBinary returns the path of booth-runner, built on first use once
// for the whole test binary.
func runnerBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(tmpDir, "booth-runner")
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
