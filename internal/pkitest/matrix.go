package pkitest

import (
	"os"
	"path/filepath"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Matrix makes a new temporary folder named after prefix and fills its
// "mesh" subfolder with pki.Init for every identity of matrixFile. It
// returns that subfolder and a func that removes everything it made.
func Matrix(prefix, matrixFile string) (dir string, remove func(), err error) {
	root, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(root) }
	dir = filepath.Join(root, "mesh")
	mx, err := matrix.Load(matrixFile)
	if err == nil {
		_, err = pki.Init(dir, mx.Identities(), pki.Options{})
	}
	if err != nil {
		remove()
		return "", nil, err
	}
	return dir, remove, nil
}
