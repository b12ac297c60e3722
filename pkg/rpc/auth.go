package rpc

import (
	"context"
	"strings"
	"time"
)

// Per-call authentication: every call carries a short-lived JWT (EdDSA,
// signed with the caller's NKey) that names the caller (sub, iss = its
// public NKey), the callee (aud) and the paths it may call there; a bridge
// calling for someone else adds itself as the actor ("act": {"sub": ...},
// RFC 8693) and signs with its own key. A CallSigner makes and reuses the
// tokens on the client side; a CallVerifier checks them in the booth,
// against the same Policy.

// Limits of the call tokens.
const (
	// MaxTokenTTL is the longest a call token may live; a booth refuses
	// one whose exp is further ahead.
	MaxTokenTTL = 60 * time.Second
	// TokenRefreshBefore is how long before its expiry a signer stops
	// reusing a token.
	TokenRefreshBefore = 10 * time.Second
	// DefaultTokenLeeway is the clock skew a booth tolerates on exp, nbf
	// and iat.
	DefaultTokenLeeway = 5 * time.Second
	// MaxTokenLen is the longest Authorization token a booth will parse.
	MaxTokenLen = 4096
)

// Policy is what call authentication needs from the Access & Authorization
// Matrix; *matrix.Matrix implements it.
type Policy interface {
	// Allowed reports whether caller may call path on service.
	Allowed(caller, service, path string) bool
	// MayActFor reports whether actor may call on behalf of subject.
	MayActFor(actor, subject string) bool
	// Paths returns the paths caller may call on service ("*" for all).
	Paths(caller, service string) []string
	// PublicKey returns identity's public NKey.
	PublicKey(identity string) (string, bool)
}

// Principal is who an authenticated call is from.
type Principal struct {
	// Caller is the identity the call is made for (the token's sub).
	Caller string
	// Actor is the identity that made the call on Caller's behalf (the
	// bridge), or "" when Caller made it itself.
	Actor string
}

type principalKey struct{}

// PrincipalFromContext returns who the call a booth handler serves is from,
// once a CallVerifier has authenticated it.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// AuthenticatedCaller returns the authenticated caller of the call a
// handler serves, or "" when the call was not authenticated.
func AuthenticatedCaller(ctx context.Context) string {
	p, _ := PrincipalFromContext(ctx)
	return p.Caller
}

type onBehalfKey struct{}

// OnBehalfOf returns a ctx whose calls a CallSigner signs for identity, with
// the signer as the actor: the bridge calls for the gateway this way. The
// policy must let the signer act for identity.
func OnBehalfOf(ctx context.Context, identity string) context.Context {
	return context.WithValue(ctx, onBehalfKey{}, identity)
}

func onBehalfOf(ctx context.Context) string {
	id, _ := ctx.Value(onBehalfKey{}).(string)
	return id
}

// normalizePath gives a path one leading slash, as the matrix writes it.
// A path that has one already is returned as it is, without a copy.
func normalizePath(path string) string {
	if strings.HasPrefix(path, "/") {
		return path
	}
	return "/" + path
}
