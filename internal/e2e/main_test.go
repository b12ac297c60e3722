package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

const (
	matrixFile = "../../deployments/matrix.yaml"
	feeTable   = "../../deployments/fees.yaml"
)

// Made once for the package by TestMain.
var (
	// dir is the credentials folder of the demo matrix's identities.
	dir string
	// demo is the demo matrix with the public keys in dir.
	demo *matrix.Matrix
	// foreign holds a gateway certificate from another CA.
	foreign string
)

func TestMain(m *testing.M) {
	api.DisableConfigDir()
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	root, err := os.MkdirTemp("", "e2e")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(root)
	dir, foreign = filepath.Join(root, "mesh"), filepath.Join(root, "foreign")
	mx, err := matrix.Load(matrixFile)
	if err != nil {
		return 0, err
	}
	if _, err := pki.Init(dir, mx.Identities(), pki.Options{}); err != nil {
		return 0, err
	}
	if demo, err = mx.LoadKeys(dir); err != nil {
		return 0, err
	}
	if _, err := pki.Init(foreign, []string{"gateway"}, pki.Options{}); err != nil {
		return 0, err
	}
	return m.Run(), nil
}
