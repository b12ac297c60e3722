package bench

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// Creds is a credentials folder made for the benchmark: the bench matrix
// (the demo's plus RawService) and, for every identity in it, what
// `meshctl init` would make.
type Creds struct {
	// Dir is the credentials folder; MatrixFile the matrix written in it.
	Dir        string
	MatrixFile string
	// Matrix is the matrix with every identity's public key.
	Matrix *matrix.Matrix
}

// NewCreds writes the bench matrix, from the demo matrix at demoMatrix,
// and the credentials of its identities into dir.
func NewCreds(dir, demoMatrix string) (*Creds, error) {
	data, err := benchMatrix(demoMatrix)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	file := filepath.Join(dir, "matrix.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	m, err := matrix.Load(file)
	if err != nil {
		return nil, err
	}
	if _, err := pki.Init(dir, m.Identities(), pki.Options{}); err != nil {
		return nil, err
	}
	if m, err = m.LoadKeys(dir); err != nil {
		return nil, err
	}
	return &Creds{Dir: dir, MatrixFile: file, Matrix: m}, nil
}

// StartSecure runs an embedded NATS server as the bridge runs it: TLS with
// client certificates from the mesh CA, one NKey user per identity with the
// matrix's permissions, JetStream in storeDir with its default (synced)
// writes.
func (c *Creds) StartSecure(storeDir string) (*server.Server, error) {
	return embednats.Start(embednats.Config{
		Port: -1, StoreDir: storeDir, ServerName: "bench-secure",
		Tune: func(o *server.Options) error {
			return natsauth.Apply(o, c.Matrix, c.Matrix.Keys(), natsauth.ServerFiles(c.Dir))
		},
	})
}

// Connect opens a connection to url as identity, with its certificate and
// NKey.
func (c *Creds) Connect(url, identity string, extra ...nats.Option) (*nats.Conn, error) {
	opts, err := mesh.Credentials{Dir: c.Dir}.NATSOptions(identity)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(url, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("bench: connecting as %s: %w", identity, err)
	}
	return nc, nil
}

// StartPlain runs an embedded NATS server with no TLS and no
// authentication, the reference for what TLS costs.
func StartPlain(storeDir string) (*server.Server, error) {
	return embednats.Start(embednats.Config{Port: -1, StoreDir: storeDir, ServerName: "bench-plain"})
}
