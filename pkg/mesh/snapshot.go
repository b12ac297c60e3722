package mesh

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
)

// snapshot is one reading of a Mesh's credentials, used whole: a NATS
// handshake presents its certificate and NKey together, and tokens are
// signed with its NKey and checked against its key set.
type snapshot struct {
	cert tls.Certificate
	pool *x509.CertPool // the trust bundle
	kp   nkeys.KeyPair
	pub  string
	keys *calltoken.KeySet
	// due is when keys change without a file changing (an overlap key
	// expiring), or zero.
	due time.Time
	// server is the HTTPS listener's config, once ServerTLSConfig asked
	// for one.
	server *tls.Config
}

// readSnapshot reads the identity's credentials and the folder's key set,
// and checks they agree: a rotation half written is an error, and the
// caller keeps what it had.
func (m *Mesh) readSnapshot() (*snapshot, error) {
	id, c := m.cfg.Identity, m.cfg.Credentials
	tc, err := c.TLSConfig(id)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("%w: certificate of %s: %v", ErrNoCredentials, id, err)
	}
	if named, err := pki.IdentityOf(leaf); err != nil || named != id {
		return nil, fmt.Errorf("%w: the certificate of %s names %q (%v)", ErrNoCredentials, id, named, err)
	}
	kp, err := c.KeyPair(id)
	if err != nil {
		return nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, fmt.Errorf("%w: the NKey seed of %s is not a user NKey", ErrNoCredentials, id)
	}
	s := &snapshot{cert: tc.Certificates[0], pool: tc.RootCAs, kp: kp, pub: pub}
	if s.keys, s.due, err = m.keyring.Read(time.Now()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoCredentials, err)
	}
	if !slices.Contains(s.keys.Keys[id], pub) {
		return nil, fmt.Errorf("%w: the NKey seed of %s is not a key the credentials publish for it (%s.pub or %s)", ErrNoCredentials, id, id, pki.OverlapFile)
	}
	if m.serving.Load() {
		if s.server, err = c.ServerTLSConfig(); err != nil {
			return nil, err
		}
	}
	return s, nil
}
