package natsauth

import (
	"encoding/base64"
	"sync/atomic"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// binder authenticates a client connection by its NKey, exactly as the
// server does for NKey users (a signature of the server's nonce), and also
// requires the verified client certificate to name the same identity. The
// server has already refused any certificate its CA did not sign. Its
// tables can be replaced while the server runs (Live): a reload of the
// server's options cannot replace the binder itself.
type binder struct {
	t atomic.Pointer[binderTables]
}

type binderTables struct {
	users    map[string]*server.NkeyUser // by public key
	identity map[string]string           // public key -> identity
}

func newBinder(users []*server.NkeyUser, identity map[string]string) *binder {
	b := &binder{}
	b.set(users, identity)
	return b
}

// set makes users, with the identities of their keys, the ones accepted
// from the next connection on.
func (b *binder) set(users []*server.NkeyUser, identity map[string]string) {
	t := &binderTables{users: map[string]*server.NkeyUser{}, identity: identity}
	for _, u := range users {
		t.users[u.Nkey] = u
	}
	b.t.Store(t)
}

// nkeyRegistrar is implemented by the server's client: it applies an NKey
// user's permissions to the connection.
type nkeyRegistrar interface {
	RegisterNkeyUser(*server.NkeyUser) error
}

// Check implements server.Authentication.
func (b *binder) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	t := b.t.Load()
	u, ok := t.users[o.Nkey]
	if !ok || !validSignature(o.Nkey, o.Sig, c.GetNonce()) {
		return false
	}
	st := c.GetTLSConnectionState()
	if st == nil || len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return false
	}
	id, err := pki.IdentityOf(st.VerifiedChains[0][0])
	if err != nil || id != t.identity[o.Nkey] {
		return false
	}
	r, ok := c.(nkeyRegistrar)
	if !ok {
		return false
	}
	return r.RegisterNkeyUser(u) == nil
}

// validSignature checks sig (base64) is pub's signature of nonce.
func validSignature(pub, sig string, nonce []byte) bool {
	if len(nonce) == 0 || sig == "" {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return false
		}
	}
	kp, err := nkeys.FromPublicKey(pub)
	if err != nil {
		return false
	}
	return kp.Verify(nonce, raw) == nil
}
