package meshcreds

import (
	"crypto/tls"
	"errors"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// ServerTLS returns the TLS config of the bridge's HTTPS listener: the
// server certificate from dir, HTTP/2 first, and a client certificate
// signed by the mesh CA required of every client.
func ServerTLS(dir string) (*tls.Config, error) {
	pool, err := caPool(dir)
	if err != nil {
		return nil, err
	}
	pair, err := keyPair(dir, pki.ServerName)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

// PeerIdentity returns the identity named by the verified client
// certificate of a TLS connection (an *http.Request's TLS field). It fails
// when the connection has no verified chain.
func PeerIdentity(cs *tls.ConnectionState) (string, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", errors.New("meshcreds: no verified client certificate")
	}
	return pki.IdentityOf(cs.VerifiedChains[0][0])
}
