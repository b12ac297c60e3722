package meshcreds

import (
	"crypto/tls"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
)

// ClientTLS returns a TLS client config that presents identity's
// certificate and trusts only the mesh CA.
func ClientTLS(dir, identity string) (*tls.Config, error) {
	if err := pki.ValidateIdentity(identity); err != nil {
		return nil, fmt.Errorf("meshcreds: %w", err)
	}
	pool, err := caPool(dir)
	if err != nil {
		return nil, err
	}
	pair, err := keyPair(dir, identity)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// ClientOptions returns the options that connect to the mesh's NATS as
// identity: TLS with its client certificate and the CA, NKey authentication
// with the seed in "<dir>/<identity>.nk", the identity's own inbox prefix
// (the only inbox its permissions let it read) and the identity as the
// connection name.
func ClientOptions(dir, identity string) ([]nats.Option, error) {
	tc, err := ClientTLS(dir, identity)
	if err != nil {
		return nil, err
	}
	if err := need(pki.SeedFile(dir, identity)); err != nil {
		return nil, err
	}
	kp, err := pki.ReadKeyPair(dir, identity)
	if err != nil {
		return nil, fmt.Errorf("meshcreds: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("meshcreds: NKey of %s: %w", identity, err)
	}
	return []nats.Option{
		nats.Secure(tc),
		nats.Nkey(pub, kp.Sign),
		nats.CustomInboxPrefix(natsauth.InboxPrefix(identity)),
		nats.Name(identity),
	}, nil
}
