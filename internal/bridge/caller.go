package bridge

import (
	"crypto/tls"
	"errors"
	"net/http"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// CallerFunc says whom a request calls the mesh for: it returns that
// identity, or a coded error (401, 403) that refuses the request before
// anything is published.
type CallerFunc func(r *http.Request) (string, error)

// ActPolicy is what the bridge needs of the Access & Authorization Matrix:
// whether it may act for an identity. *matrix.Matrix implements it.
type ActPolicy interface {
	MayActFor(actor, subject string) bool
}

// ClientCertificate returns the CallerFunc of an HTTPS bridge: the identity
// named by the request's verified client certificate, which policy must let
// actor (the bridge's own identity) act for. A request without a verified
// certificate is refused with 401, one whose identity the bridge may not act
// for with 403.
func ClientCertificate(actor string, policy ActPolicy) CallerFunc {
	return func(r *http.Request) (string, error) {
		id, err := peerIdentity(r.TLS)
		if err != nil {
			return "", rpc.Errorf(rpc.CodeUnauthenticated, "a client certificate signed by the mesh CA is required")
		}
		if !policy.MayActFor(actor, id) {
			return "", rpc.Errorf(rpc.CodePermissionDenied, "the matrix does not let %s act for %q", actor, id)
		}
		return id, nil
	}
}

// ActAs returns a CallerFunc that calls for identity on every request. It is
// for cleartext h2c on loopback, where no certificate names the client, so
// the process names the one identity it serves (--insecure-h2c-as).
func ActAs(identity string) CallerFunc {
	return func(*http.Request) (string, error) { return identity, nil }
}

// authenticate resolves the request's caller and returns the request with a
// context whose calls are signed on the caller's behalf, the bridge
// recorded as the actor.
func (b *Bridge) authenticate(r *http.Request) (*http.Request, error) {
	id, err := b.cfg.Caller(r)
	if err != nil {
		return nil, err
	}
	return b.onBehalfOf(r, id), nil
}

// onBehalfOf returns r with a context whose calls are signed for caller,
// the bridge recorded as the actor; for the bridge's own identity (a
// sidecar's app calls as its identity) they are signed as it.
func (b *Bridge) onBehalfOf(r *http.Request, caller string) *http.Request {
	if caller == b.identity {
		return r
	}
	return r.WithContext(calltoken.OnBehalfOf(r.Context(), caller))
}

// peerIdentity returns the identity named by the verified client
// certificate of a TLS connection. It fails when the connection has no
// verified chain.
func peerIdentity(cs *tls.ConnectionState) (string, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", errors.New("no verified client certificate")
	}
	return pki.IdentityOf(cs.VerifiedChains[0][0])
}
