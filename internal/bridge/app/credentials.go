package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/meshcreds"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// credentials is what the bridge reads from the credentials folder.
type credentials struct {
	matrix    *matrix.Matrix    // with every identity's public NKey
	nats      []nats.Option     // the bridge identity's TLS and NKey
	signer    *rpc.CallSigner   // signs each call for its caller, as the bridge
	serverTLS *tls.Config       // nil with InsecureH2C
	caller    bridge.CallerFunc // whom each request calls for
}

// loadCredentials reads the matrix and the bridge's credentials, and checks
// the bridge may act as configured.
func loadCredentials(cfg Config) (*credentials, error) {
	if _, err := os.Stat(cfg.MeshDir); errors.Is(err, fs.ErrNotExist) {
		return nil, noCredentials(cfg.MeshDir, fmt.Errorf("--mesh-dir %s does not exist", cfg.MeshDir))
	}
	m, err := matrix.Load(cfg.MatrixFile)
	if err != nil {
		return nil, fmt.Errorf("--matrix: %w", err)
	}
	if m, err = m.LoadKeys(cfg.MeshDir); err != nil {
		return nil, noCredentials(cfg.MeshDir, err)
	}
	id, ok := m.Identity(cfg.Identity)
	if !ok || id.Kind != matrix.KindBridge {
		return nil, fmt.Errorf("--matrix %s has no identity %q of kind bridge", cfg.MatrixFile, cfg.Identity)
	}
	c := &credentials{matrix: m, caller: bridge.ClientCertificate(cfg.Identity, m)}
	if cfg.InsecureH2C {
		if !m.MayActFor(cfg.Identity, cfg.InsecureH2CAs) {
			return nil, fmt.Errorf("--insecure-h2c-as %s: the matrix %s does not let %s act for it", cfg.InsecureH2CAs, cfg.MatrixFile, cfg.Identity)
		}
		c.caller = bridge.ActAs(cfg.InsecureH2CAs)
	}
	if c.nats, err = meshcreds.ClientOptions(cfg.MeshDir, cfg.Identity); err != nil {
		return nil, noCredentials(cfg.MeshDir, err)
	}
	if c.signer, err = meshcreds.CallSigner(cfg.MeshDir, cfg.Identity, m); err != nil {
		return nil, noCredentials(cfg.MeshDir, err)
	}
	if !cfg.InsecureH2C {
		if c.serverTLS, err = meshcreds.ServerTLS(cfg.MeshDir); err != nil {
			return nil, noCredentials(cfg.MeshDir, err)
		}
	}
	return c, nil
}

// noCredentials wraps a missing or unreadable credential with the command
// that makes them.
func noCredentials(dir string, err error) error {
	return fmt.Errorf("%w: %v; create them with \"meshctl init --dir %s\" (\"make run\" does it)", ErrNoCredentials, err, dir)
}
