package mesh

import (
	"context"
	"crypto/tls"
)

// ServerTLSConfig returns the TLS config of an HTTPS listener of the mesh
// (the bridge's), as Credentials.ServerTLSConfig makes it but kept current:
// from this call on, the Mesh also reloads the server certificate from
// Dir, and each handshake uses the server certificate and trust bundle of
// its last reload.
func (m *Mesh) ServerTLSConfig() (*tls.Config, error) {
	m.serving.Store(true)
	if err := m.Reload(context.Background()); err != nil {
		return nil, err
	}
	base := m.snap.Load().server
	if base == nil {
		return nil, ErrNoCredentials // InsecureNoCredentials: nothing to serve with
	}
	tc := base.Clone()
	tc.Certificates = nil
	tc.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return m.snap.Load().server, nil
	}
	return tc, nil
}
