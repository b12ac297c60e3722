package revocation

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// MaxLen is the longest list Parse reads.
const MaxLen = 1 << 20

// claims are the list's JWT claims: iss is the operator's public NKey.
type claims struct {
	jwt.RegisteredClaims
	Seq     uint64  `json:"seq"`
	Revoked []Entry `json:"revoked"`
}

// Sign returns l as a JWT signed by the operator's NKey.
func Sign(l *List, operator nkeys.KeyPair) ([]byte, error) {
	pub, err := operator.PublicKey()
	if err != nil || !nkeys.IsValidPublicOperatorKey(pub) {
		return nil, errors.New("revocation: the list must be signed by an operator NKey")
	}
	seed, err := operator.Seed()
	if err != nil {
		return nil, fmt.Errorf("revocation: operator NKey: %w", err)
	}
	_, raw, err := nkeys.DecodeSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("revocation: operator NKey: %w", err)
	}
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: pub, IssuedAt: jwt.NewNumericDate(l.Issued)},
		Seq:              l.Seq,
		Revoked:          l.Entries,
	}
	if c.Revoked == nil {
		c.Revoked = []Entry{}
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(ed25519.NewKeyFromSeed(raw))
	if err != nil {
		return nil, fmt.Errorf("revocation: signing the list: %w", err)
	}
	return []byte(tok + "\n"), nil
}

// Parse verifies that data is a list signed by operator (a public operator
// NKey) and returns it. Its errors match ErrBadList and say what is wrong.
func Parse(data []byte, operator string) (*List, error) {
	if len(data) > MaxLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadList, MaxLen)
	}
	key, err := nkeys.Decode(nkeys.PrefixByteOperator, []byte(operator))
	if err != nil {
		return nil, fmt.Errorf("revocation: the operator key is not a public operator NKey: %w", err)
	}
	var c claims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithIssuer(operator))
	_, err = parser.ParseWithClaims(string(bytes.TrimSpace(data)), &c, func(*jwt.Token) (any, error) {
		return ed25519.PublicKey(key), nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, fmt.Errorf("%w: not signed by the operator key %s", ErrBadList, operator)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrBadList, err)
	case c.Seq == 0 || c.IssuedAt == nil:
		return nil, fmt.Errorf("%w: no seq or iat", ErrBadList)
	}
	for i, e := range c.Revoked {
		if err := pki.ValidateIdentity(e.Identity); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", ErrBadList, i, err)
		}
		if i > 0 && c.Revoked[i-1].Identity >= e.Identity {
			return nil, fmt.Errorf("%w: entries not sorted or %s listed twice", ErrBadList, e.Identity)
		}
	}
	return &List{Seq: c.Seq, Issued: c.IssuedAt.Time.UTC(), Entries: slices.Clip(c.Revoked)}, nil
}
