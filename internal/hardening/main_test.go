package hardening_test

import (
	"testing"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/pkitest"
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
	pkitest.Main(m, "hardening", matrixFile, func(pm *pkitest.Mesh) (err error) {
		dir, demo = pm.Dir, pm.Matrix
		watcherKey, err = pki.ReadPublicKey(dir, watcherID)
		return err
	}, watcherID)
}
