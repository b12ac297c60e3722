package e2e

import (
	"path/filepath"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/pkitest"
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
	pkitest.Main(m, "e2e", matrixFile, func(pm *pkitest.Mesh) error {
		dir, demo = pm.Dir, pm.Matrix
		foreign = filepath.Join(pm.Root, "foreign")
		_, err := pki.Init(foreign, []string{"gateway"}, pki.Options{})
		return err
	})
}
