package bench

import (
	"github.com/hms-svc/hms-svc/internal/meshcreds"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// rpcSigner returns identity's call signer from the credentials.
func rpcSigner(c *Creds, identity string) (*rpc.CallSigner, error) {
	return meshcreds.CallSigner(c.Dir, identity, c.Matrix)
}
