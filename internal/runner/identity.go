package runner

import "github.com/nats-io/nats.go"

// IdentityOptions returns the connection options that make a connection
// speak as identity ("fee-calc", "payment", ...). This is where the
// hallway's credentials go: the identity's client certificate and key with
// the mesh CA (mTLS), and its NKey seed. Until then it adds nothing and the
// connection is anonymous.
func IdentityOptions(identity string) ([]nats.Option, error) {
	return nil, nil
}
