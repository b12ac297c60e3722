package meshcreds

import (
	"fmt"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// LoadMatrix reads the matrix at path with every identity's public NKey from
// the credentials folder dir.
func LoadMatrix(path, dir string) (*matrix.Matrix, error) {
	m, err := matrix.Load(path)
	if err != nil {
		return nil, err
	}
	return m.LoadKeys(dir)
}

// CallSigner returns the signer of identity's call tokens, with the NKey
// seed in "<dir>/<identity>.nk"; put its Middleware in the client's
// rpc.WithAttemptMiddleware.
func CallSigner(dir, identity string, policy rpc.Policy, opts ...rpc.SignerOption) (*rpc.CallSigner, error) {
	if err := need(pki.SeedFile(dir, identity)); err != nil {
		return nil, err
	}
	kp, err := pki.ReadKeyPair(dir, identity)
	if err != nil {
		return nil, fmt.Errorf("meshcreds: %w", err)
	}
	return rpc.NewCallSigner(identity, kp, policy, opts...)
}
