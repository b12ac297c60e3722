package calltoken

import "slices"

// KeySet is what a Verifier trusts besides its policy's rules, once it is
// given one (WithKeySet, SetKeySet): the public NKeys each identity may sign
// with — two while the identity's key is being rotated — and the identities
// that are revoked, whose tokens are refused whoever signed them.
type KeySet struct {
	// Keys maps an identity to the public NKeys its tokens may be signed
	// with. An identity missing here signs nothing a booth accepts.
	Keys map[string][]string
	// Revoked holds the identities whose calls are refused, as the caller
	// or as the actor.
	Revoked map[string]bool
}

// accepts reports whether pub is one of identity's keys.
func (ks *KeySet) accepts(identity, pub string) bool {
	return slices.Contains(ks.Keys[identity], pub)
}

// RevokedError is the cause of the 401 a Verifier answers a call from, or
// made by, a revoked identity with (errors.As finds it).
type RevokedError struct {
	// Identity is the revoked identity: the token's subject or its actor.
	Identity string
}

// Error implements error.
func (e *RevokedError) Error() string { return "identity " + e.Identity + " is revoked" }
