package hardening

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// WatcherPermissions let a connection receive every message of its account
// and publish nothing.
var WatcherPermissions = &server.Permissions{
	Publish:   &server.SubjectPermission{Deny: []string{">"}},
	Subscribe: &server.SubjectPermission{Allow: []string{">"}},
}

// AddWatcher admits one more NKey user to a server that natsauth.Apply has
// set up: identity, which is not in the matrix, whose certificate the mesh
// CA signed and whose public NKey is publicKey. It gets WatcherPermissions,
// so a test can subscribe to ">" and see everything a bridge publishes. Call
// it in embednats.Config.Tune after natsauth.Apply; every other connection is
// still checked by Apply's authentication.
func AddWatcher(opts *server.Options, identity, publicKey string) error {
	if opts.CustomClientAuthentication == nil {
		return errors.New("hardening: AddWatcher needs the authentication natsauth.Apply installs")
	}
	if !nkeys.IsValidPublicUserKey(publicKey) {
		return fmt.Errorf("hardening: key of watcher %q is not a public user NKey", identity)
	}
	user := &server.NkeyUser{Nkey: publicKey, Permissions: WatcherPermissions}
	opts.Nkeys = append(opts.Nkeys, user)
	opts.CustomClientAuthentication = &watcherAuth{
		next: opts.CustomClientAuthentication, identity: identity, user: user,
	}
	return nil
}

// watcherAuth checks the watcher's connection as natsauth checks every
// identity's (NKey signature of the nonce, certificate naming the same
// identity) and hands every other connection to next.
type watcherAuth struct {
	next     server.Authentication
	identity string
	user     *server.NkeyUser
}

// nkeyRegistrar is implemented by the server's client: it applies an NKey
// user's permissions to the connection.
type nkeyRegistrar interface {
	RegisterNkeyUser(*server.NkeyUser) error
}

// Check implements server.Authentication.
func (w *watcherAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if o.Nkey != w.user.Nkey {
		return w.next.Check(c)
	}
	if !signed(o.Nkey, o.Sig, c.GetNonce()) {
		return false
	}
	st := c.GetTLSConnectionState()
	if st == nil || len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return false
	}
	if id, err := pki.IdentityOf(st.VerifiedChains[0][0]); err != nil || id != w.identity {
		return false
	}
	r, ok := c.(nkeyRegistrar)
	return ok && r.RegisterNkeyUser(w.user) == nil
}

// signed reports whether sig (base64) is pub's signature of nonce.
func signed(pub, sig string, nonce []byte) bool {
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
	return err == nil && kp.Verify(nonce, raw) == nil
}
