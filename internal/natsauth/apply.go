package natsauth

import (
	"crypto/tls"
	"fmt"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// TLSFiles names the PEM files of the server's TLS: the CA that signs client
// certificates, and the server's certificate and key.
type TLSFiles struct {
	CA, Cert, Key string
}

// ServerFiles returns the server's TLS files in a credentials folder:
// ca.pem, server.pem, server-key.pem.
func ServerFiles(dir string) TLSFiles {
	return TLSFiles{
		CA:   filepath.Join(dir, "ca.pem"),
		Cert: filepath.Join(dir, "server.pem"),
		Key:  filepath.Join(dir, "server-key.pem"),
	}
}

// RouteFiles returns the TLS files cluster routes use: ca.pem, route.pem,
// route-key.pem.
func RouteFiles(dir string) TLSFiles {
	return TLSFiles{
		CA:   filepath.Join(dir, "ca.pem"),
		Cert: filepath.Join(dir, "route.pem"),
		Key:  filepath.Join(dir, "route-key.pem"),
	}
}

// TLSTimeout is how long, in seconds, a client has to finish its TLS
// handshake.
const TLSTimeout = 2

// Apply sets opts up for the mesh: TLS that requires a client certificate
// from the CA, one NKey user per identity with its Permissions, no other
// user, no anonymous access, and a check that binds each connection's
// certificate identity to its NKey. Use it as embednats.Config.Tune.
func Apply(opts *server.Options, m *matrix.Matrix, keys map[string]string, files TLSFiles) error {
	users, err := Users(m, keys)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	for _, id := range m.Identities() {
		ids[keys[id]] = id
	}
	_, err = configure(opts, users, ids, files)
	return err
}

// configure sets opts up as Apply says, with users (whose keys ids maps to
// identities), and returns the binder it installed.
func configure(opts *server.Options, users []*server.NkeyUser, ids map[string]string, files TLSFiles) (*binder, error) {
	tc, err := serverTLS(files)
	if err != nil {
		return nil, err
	}
	opts.TLS, opts.TLSVerify, opts.TLSMap = true, true, false
	opts.TLSConfig, opts.TLSTimeout = tc, TLSTimeout
	opts.TLSCert, opts.TLSKey, opts.TLSCaCert = files.Cert, files.Key, files.CA
	opts.Nkeys = users
	opts.Users = nil
	opts.NoAuthUser, opts.Username, opts.Password, opts.Authorization = "", "", "", ""
	b := newBinder(users, ids)
	opts.CustomClientAuthentication = b
	// A custom authenticator keeps the server from building its NKey table,
	// so ask for the nonce the NKey signature covers explicitly.
	opts.AlwaysEnableNonce = true
	return b, nil
}

// serverTLS reads files into the server's TLS config: the trust bundle's
// CAs sign the client certificates it requires.
func serverTLS(files TLSFiles) (*tls.Config, error) {
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: files.Cert, KeyFile: files.Key, CaFile: files.CA,
		Verify: true, Timeout: TLSTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("natsauth: server TLS: %w", err)
	}
	return tc, nil
}
