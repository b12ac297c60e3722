package mesh

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
)

// ErrNoCredentials is matched by the error of Connect (and of the
// Credentials methods) when a certificate, key or NKey seed is missing or
// unreadable; the error names the file or the setting.
var ErrNoCredentials = errors.New("no mesh credentials")

// Credentials says where an identity's secrets are: a credentials folder as
// `meshctl init` writes it (Dir: ca.pem, <id>.pem, <id>-key.pem, <id>.nk,
// and every identity's <id>.pub), or each file by path, or each secret as
// PEM (or seed) bytes, so that a platform can mount them anywhere. For each
// secret the bytes win over the path, and the path over Dir.
type Credentials struct {
	// Dir is a credentials folder (HMS_MESH_DIR).
	Dir string
	// CAFile is the mesh CA's certificate (HMS_CA_FILE), CertFile and
	// KeyFile the identity's client certificate and key (HMS_CERT_FILE,
	// HMS_KEY_FILE), NKeyFile its NKey seed (HMS_NKEY_FILE).
	CAFile, CertFile, KeyFile, NKeyFile string
	// CAPEM, CertPEM, KeyPEM and NKeySeed are the same secrets as bytes.
	CAPEM, CertPEM, KeyPEM, NKeySeed []byte
	// KeysDir holds the public NKeys (<id>.pub) of the matrix's identities,
	// against which call tokens are verified (HMS_KEYS_DIR; Dir when empty).
	// A matrix that lists every key itself (nkey: U...) needs none.
	KeysDir string
}

// keysDir returns the folder of the public NKeys, or "".
func (c Credentials) keysDir() string {
	if c.KeysDir != "" {
		return c.KeysDir
	}
	return c.Dir
}

// secret reads one secret: the bytes when given, else the file at path,
// else the file name in Dir. what and env name it in errors.
func (c Credentials) secret(inline []byte, path, name, what, env string) ([]byte, string, error) {
	if len(inline) > 0 {
		return inline, what, nil
	}
	if path = c.path(path, name); path == "" {
		return nil, "", fmt.Errorf("%w: %s: set %s or the credentials folder (HMS_MESH_DIR)", ErrNoCredentials, what, env)
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, path, fmt.Errorf("%w: %s: %s is missing (run meshctl init)", ErrNoCredentials, what, path)
	case err != nil:
		return nil, path, fmt.Errorf("%w: %s: %v", ErrNoCredentials, what, err)
	}
	return data, path, nil
}

// path returns the file a secret is read from: path, else name in Dir, or
// "" when neither is set.
func (c Credentials) path(path, name string) string {
	if path == "" && c.Dir != "" {
		path = c.Dir + string(os.PathSeparator) + name
	}
	return path
}

// files returns the files identity's secrets are read from (none for a
// secret given as bytes), the server's too when server is set: those a
// reload watches.
func (c Credentials) files(identity string, server bool) []string {
	var out []string
	add := func(inline []byte, path, name string) {
		if p := c.path(path, name); len(inline) == 0 && p != "" {
			out = append(out, p)
		}
	}
	add(c.CAPEM, c.CAFile, pki.CAName+".pem")
	add(c.CertPEM, c.CertFile, identity+".pem")
	add(c.KeyPEM, c.KeyFile, identity+"-key.pem")
	add(c.NKeySeed, c.NKeyFile, identity+".nk")
	if server {
		add(nil, "", pki.ServerName+".pem")
		add(nil, "", pki.ServerName+"-key.pem")
	}
	return out
}

// caPool returns the mesh's trust bundle (ca.pem: the CA, and during a CA
// rotation the other one too) as the only trusted roots.
func (c Credentials) caPool() (*x509.CertPool, error) {
	data, src, err := c.secret(c.CAPEM, c.CAFile, pki.CAName+".pem", "mesh CA", "HMS_CA_FILE")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%w: mesh CA: %s holds no PEM certificate", ErrNoCredentials, src)
	}
	return pool, nil
}

// keyPair returns the certificate and key of name: the configured ones for
// the identity, from Dir for another name (the server's).
func (c Credentials) keyPair(name string, own bool) (tls.Certificate, error) {
	certPEM, certFile, keyPEM, keyFile := c.CertPEM, c.CertFile, c.KeyPEM, c.KeyFile
	if !own {
		certPEM, certFile, keyPEM, keyFile = nil, "", nil, ""
	}
	cert, certSrc, err := c.secret(certPEM, certFile, name+".pem", "certificate of "+name, "HMS_CERT_FILE")
	if err != nil {
		return tls.Certificate{}, err
	}
	key, keySrc, err := c.secret(keyPEM, keyFile, name+"-key.pem", "private key of "+name, "HMS_KEY_FILE")
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %s / %s: %v", ErrNoCredentials, certSrc, keySrc, err)
	}
	return pair, nil
}

// TLSConfig returns a client TLS config that presents identity's
// certificate and trusts only the mesh CA: for NATS, and for an HTTPS
// client of the bridge such as the gateway.
func (c Credentials) TLSConfig(identity string) (*tls.Config, error) {
	if err := pki.ValidateIdentity(identity); err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	pool, err := c.caPool()
	if err != nil {
		return nil, err
	}
	pair, err := c.keyPair(identity, true)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// ServerTLSConfig returns the TLS config of an HTTPS listener of the mesh
// (the bridge's): the server certificate from Dir, HTTP/2 first, and a
// client certificate signed by the mesh CA required of every client.
func (c Credentials) ServerTLSConfig() (*tls.Config, error) {
	pool, err := c.caPool()
	if err != nil {
		return nil, err
	}
	pair, err := c.keyPair(pki.ServerName, false)
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

// KeyPair returns identity's NKey.
func (c Credentials) KeyPair(identity string) (nkeys.KeyPair, error) {
	seed, src, err := c.secret(c.NKeySeed, c.NKeyFile, identity+".nk", "NKey seed of "+identity, "HMS_NKEY_FILE")
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(seed))))
	if err != nil {
		return nil, fmt.Errorf("%w: NKey seed of %s in %s: %v", ErrNoCredentials, identity, src, err)
	}
	return kp, nil
}

// NATSOptions returns the options that connect to the mesh's NATS as
// identity: TLS with its client certificate and the mesh CA, NKey
// authentication, the identity's own inbox prefix (the only inbox its
// permissions let it read) and the identity as the connection name.
func (c Credentials) NATSOptions(identity string) ([]nats.Option, error) {
	tc, err := c.TLSConfig(identity)
	if err != nil {
		return nil, err
	}
	kp, err := c.KeyPair(identity)
	if err != nil {
		return nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: NKey of %s: %v", ErrNoCredentials, identity, err)
	}
	return []nats.Option{
		nats.Secure(tc),
		nats.Nkey(pub, kp.Sign),
		nats.CustomInboxPrefix(natsauth.InboxPrefix(identity)),
		nats.Name(identity),
	}, nil
}

// Signer returns identity's call signer, with its NKey, granting what
// policy allows: for a program that assembles a client by hand (a test's
// attacker); a Mesh makes its own.
func (c Credentials) Signer(identity string, policy calltoken.Policy, opts ...calltoken.SignerOption) (*calltoken.Signer, error) {
	kp, err := c.KeyPair(identity)
	if err != nil {
		return nil, err
	}
	s, err := calltoken.NewSigner(identity, kp, policy, opts...)
	if err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	return s, nil
}
