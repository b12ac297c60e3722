package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// ErrNoCredentials is matched by the error Start returns when the
// credentials folder is missing or incomplete.
var ErrNoCredentials = mesh.ErrNoCredentials

// credentials is what the bridge reads before it connects: the matrix
// (with every identity's public NKey, for the embedded server and the
// mesh), whom each request calls for, and its HTTPS listener's TLS.
type credentials struct {
	creds     mesh.Credentials
	matrix    *matrix.Matrix
	serverTLS *tls.Config       // nil with InsecureH2C
	caller    bridge.CallerFunc // whom each request calls for
}

// loadCredentials reads the matrix and the bridge's server certificate,
// and checks the bridge may act as configured. The bridge identity's own
// certificate and NKey are read by mesh.Connect.
func loadCredentials(cfg Config) (*credentials, error) {
	if _, err := os.Stat(cfg.MeshDir); errors.Is(err, fs.ErrNotExist) {
		return nil, noCredentials(cfg.MeshDir, fmt.Errorf("%w: --mesh-dir %s does not exist", ErrNoCredentials, cfg.MeshDir))
	}
	c := &credentials{creds: mesh.Credentials{Dir: cfg.MeshDir}}
	m, err := c.creds.LoadMatrix(cfg.MatrixFile)
	if err != nil {
		return nil, noCredentials(cfg.MeshDir, fmt.Errorf("--matrix: %w", err))
	}
	id, ok := m.Identity(cfg.Identity)
	if !ok || id.Kind != matrix.KindBridge {
		return nil, fmt.Errorf("--matrix %s has no identity %q of kind bridge", cfg.MatrixFile, cfg.Identity)
	}
	c.matrix, c.caller = m, bridge.ClientCertificate(cfg.Identity, m)
	if cfg.InsecureH2C {
		if !m.MayActFor(cfg.Identity, cfg.InsecureH2CAs) {
			return nil, fmt.Errorf("--insecure-h2c-as %s: the matrix %s does not let %s act for it", cfg.InsecureH2CAs, cfg.MatrixFile, cfg.Identity)
		}
		c.caller = bridge.ActAs(cfg.InsecureH2CAs)
	} else if c.serverTLS, err = c.creds.ServerTLSConfig(); err != nil {
		return nil, noCredentials(cfg.MeshDir, err)
	}
	return c, nil
}

// noCredentials adds to a missing or unreadable credential the command that
// makes them.
func noCredentials(dir string, err error) error {
	if !errors.Is(err, ErrNoCredentials) {
		return err
	}
	return fmt.Errorf("%w; create them with \"meshctl init --dir %s\" (\"make run\" does it)", err, dir)
}
