package calltoken

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Limits of the call tokens.
const (
	// MaxTTL is the longest a call token may live; a booth refuses one
	// whose exp is further ahead.
	MaxTTL = 60 * time.Second
	// RefreshBefore is how long before its expiry a signer stops reusing a
	// token.
	RefreshBefore = 10 * time.Second
	// DefaultLeeway is the clock skew a booth tolerates on exp, nbf and iat.
	DefaultLeeway = 5 * time.Second
	// MaxLen is the longest Authorization token a booth will parse.
	MaxLen = 4096
)

// ErrBadOption is matched by the error NewSigner or NewVerifier returns for
// a bad argument or option.
var ErrBadOption = errors.New("calltoken: bad option")

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

// Principal is who an authenticated call is from. A booth handler reads it
// from rpc.CallInfo (Caller, Actor, Authenticated).
type Principal struct {
	// Caller is the identity the call is made for (the token's sub).
	Caller string
	// Actor is the identity that made the call on Caller's behalf (the
	// bridge), or "" when Caller made it itself.
	Actor string
}

type onBehalfKey struct{}

// OnBehalfOf returns a ctx whose calls a Signer signs for identity, with the
// signer as the actor: the bridge calls for the gateway this way. The policy
// must let the signer act for identity.
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
