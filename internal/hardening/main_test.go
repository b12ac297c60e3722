package hardening_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

const (
	matrixFile = "../../deployments/matrix.yaml"
	feeTable   = "../../deployments/fees.yaml"
	// watcherID is the extra identity, outside the matrix, that may
	// subscribe to ">" (AddWatcher): the tests' eye on what is published.
	watcherID = "watcher"
)

// Made once for the package by TestMain.
var (
	// dir is the credentials folder of the demo matrix's identities and
	// the watcher.
	dir string
	// demo is the demo matrix with the public keys in dir.
	demo *matrix.Matrix
	// watcherKey is the watcher's public NKey.
	watcherKey string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hardening:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	root, err := os.MkdirTemp("", "hardening")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(root)
	dir = filepath.Join(root, "mesh")
	mx, err := matrix.Load(matrixFile)
	if err != nil {
		return 0, err
	}
	if _, err := pki.Init(dir, append(mx.Identities(), watcherID), pki.Options{}); err != nil {
		return 0, err
	}
	if demo, err = mx.LoadKeys(dir); err != nil {
		return 0, err
	}
	if watcherKey, err = pki.ReadPublicKey(dir, watcherID); err != nil {
		return 0, err
	}
	return m.Run(), nil
}
