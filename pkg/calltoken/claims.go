package calltoken

import (
	"crypto/ed25519"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nkeys"
)

// Claims are the claims of a call token.
type Claims struct {
	jwt.RegisteredClaims
	// Paths are the paths the token grants on its audience ("*" for all).
	Paths []string `json:"paths"`
	// Act names the actor calling on the subject's behalf (RFC 8693).
	Act *Actor `json:"act,omitempty"`
}

// Actor is the "act" claim.
type Actor struct {
	Sub string `json:"sub"`
}

// signer returns the identity whose key signed c: the actor, if any, else
// the subject.
func (c *Claims) signer() string {
	if c.Act != nil {
		return c.Act.Sub
	}
	return c.Subject
}

// signingKey returns the ed25519 private key of a user NKey and its public
// NKey.
func signingKey(kp nkeys.KeyPair) (ed25519.PrivateKey, string, error) {
	seed, err := kp.Seed()
	if err != nil {
		return nil, "", fmt.Errorf("NKey seed: %w", err)
	}
	prefix, raw, err := nkeys.DecodeSeed(seed)
	if err != nil {
		return nil, "", fmt.Errorf("NKey seed: %w", err)
	}
	if prefix != nkeys.PrefixByteUser {
		return nil, "", fmt.Errorf("NKey is not a user key")
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, "", fmt.Errorf("NKey public key: %w", err)
	}
	return ed25519.NewKeyFromSeed(raw), pub, nil
}

// verifyingKey decodes a public user NKey into an ed25519 public key.
func verifyingKey(pub string) (ed25519.PublicKey, error) {
	raw, err := nkeys.Decode(nkeys.PrefixByteUser, []byte(pub))
	if err != nil {
		return nil, fmt.Errorf("not a public user NKey: %w", err)
	}
	return ed25519.PublicKey(raw), nil
}
