package mesh

import (
	"crypto/tls"
	"crypto/x509"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natsauth"
)

// The NATS connection authenticates at every connect and reconnect with the
// credentials of the Mesh's last reload, taken whole from one snapshot:
// the client certificate, the trust bundle and the NKey. A live connection
// stays authenticated as it was; a rotation reaches it at its next
// reconnect.
//
// Certificate and trust bundle are asked for at each handshake
// (nats.ClientTLSConfig). The NKey is not: nats.Nkey fixes the public key in
// the connection's Options when the connection is made, and nats.go offers
// no callback for it (its dynamic credential options, UserJWT and the
// creds-file ones, are for JWT accounts, which the mesh does not use;
// NkeyOptionFromSeed re-reads the seed but keeps the old public key, so a
// rotated seed would sign for a key it is not). nats.go calls the
// certificate callback with the connection's lock held, just before it
// writes CONNECT from Options in the same locked section, so that callback
// is where the Mesh sets Options.Nkey to the snapshot's key, race-free; the
// nonce is then signed with that snapshot's seed. The alternative, a new
// connection swapped in for the old, would have to move every booth's
// subscriptions, the trace publisher and the JetStream handles with it.

// natsCredentials returns the connection options that authenticate as the
// identity: first is the snapshot of the first connect.
func (m *Mesh) natsCredentials(first *snapshot) []nats.Option {
	m.handshake.Store(first)
	return []nats.Option{
		nats.ClientTLSConfig(m.handshakeCert, m.handshakeRoots),
		nats.Nkey(first.pub, m.signNonce),
		nats.CustomInboxPrefix(natsauth.InboxPrefix(m.cfg.Identity)),
		nats.Name(m.cfg.Identity),
	}
}

// handshakeCert picks the snapshot a (re)connect presents and returns its
// certificate. Before the connection exists (its first connect, and the
// options' own check) Options.Nkey is the first snapshot's key, so that
// one is kept.
func (m *Mesh) handshakeCert() (tls.Certificate, error) {
	nc := m.conn.Load()
	if nc == nil {
		return m.handshake.Load().cert, nil
	}
	s := m.snap.Load()
	nc.Opts.Nkey = s.pub // under nc's lock: see above
	m.handshake.Store(s)
	return s.cert, nil
}

// handshakeRoots returns the trust bundle of the handshake's snapshot
// (nats.go asks for it after the certificate).
func (m *Mesh) handshakeRoots() (*x509.CertPool, error) {
	return m.handshake.Load().pool, nil
}

// signNonce signs the server's nonce with the handshake snapshot's seed,
// whose public key Options.Nkey holds.
func (m *Mesh) signNonce(nonce []byte) ([]byte, error) {
	return m.handshake.Load().kp.Sign(nonce)
}
