package pkitest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Mesh is the credentials a test binary shares.
type Mesh struct {
	// Root is a temporary folder for the whole test binary; Remove deletes
	// it. Tests may keep other files there (a foreign CA, a built binary).
	Root string
	// Dir is Root/mesh: pki.Init's credentials for every identity of the
	// matrix and for the extra identities New was given.
	Dir string
	// Matrix is the matrix file with the public keys in Dir.
	Matrix *matrix.Matrix
}

// New makes a Mesh for matrixFile in a new temporary folder named after
// prefix. Extra identities (a test-only watcher, say) get credentials too.
func New(prefix, matrixFile string, extra ...string) (*Mesh, error) {
	root, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	m := &Mesh{Root: root, Dir: filepath.Join(root, "mesh")}
	if err := m.init(matrixFile, extra); err != nil {
		m.Remove()
		return nil, err
	}
	return m, nil
}

func (m *Mesh) init(matrixFile string, extra []string) error {
	mx, err := matrix.Load(matrixFile)
	if err != nil {
		return err
	}
	if _, err := pki.Init(m.Dir, append(mx.Identities(), extra...), pki.Options{}); err != nil {
		return err
	}
	m.Matrix, err = mx.LoadKeys(m.Dir)
	return err
}

// Remove deletes everything New made.
func (m *Mesh) Remove() { os.RemoveAll(m.Root) }

// Main is a TestMain body: it makes a Mesh, hands it to setup (which keeps
// what the package's tests need and may add files under Root), runs the
// tests, removes the Mesh and exits with the tests' code. A failure before
// the tests run is printed with prefix and exits 1.
func Main(m *testing.M, prefix, matrixFile string, setup func(*Mesh) error, extra ...string) {
	mesh, err := New(prefix, matrixFile, extra...)
	if err == nil && setup != nil {
		if err = setup(mesh); err != nil {
			mesh.Remove()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prefix, err)
		os.Exit(1)
	}
	code := m.Run()
	mesh.Remove()
	os.Exit(code)
}
