package calltoken

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

type signerOptions struct {
	ttl time.Duration
	now func() time.Time
}

// SignerOption configures a Signer.
type SignerOption func(*signerOptions) error

// WithTTL sets how long the signer's tokens live (default and most
// MaxTTL). A signer reuses a token until RefreshBefore its expiry,
// so the TTL must be longer than that.
func WithTTL(d time.Duration) SignerOption {
	return func(o *signerOptions) error {
		if d <= RefreshBefore || d > MaxTTL {
			return fmt.Errorf("%w: token TTL must be in (%v, %v], got %v", ErrBadOption, RefreshBefore, MaxTTL, d)
		}
		o.ttl = d
		return nil
	}
}

// WithClock sets the signer's clock (tests).
func WithClock(now func() time.Time) SignerOption {
	return func(o *signerOptions) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrBadOption)
		}
		o.now = now
		return nil
	}
}

// Signer makes the call tokens of one identity and reuses each until
// shortly before it expires, so a call costs a map lookup, not a signature.
// It is safe for concurrent use.
type Signer struct {
	identity string
	policy   Policy
	opts     signerOptions
	cur      atomic.Pointer[signingState] // replaced by Rotate
}

// signingState is a signer's key and the tokens made with it: a rotation
// replaces both at once, so no token of the old key is handed out after it.
type signingState struct {
	issuer string
	key    ed25519.PrivateKey

	mu     sync.RWMutex
	tokens map[tokenFor]signedToken
}

// tokenFor is what a token is made for: a subject calling a service.
type tokenFor struct{ subject, service string }

type signedToken struct {
	raw     string
	header  string // "Bearer " + raw, made once per token, not per call
	refresh time.Time
}

// NewSigner returns the signer of identity, whose NKey is kp. The
// policy decides what its tokens grant; if it knows identity's public key,
// kp must be that key.
func NewSigner(identity string, kp nkeys.KeyPair, policy Policy, opts ...SignerOption) (*Signer, error) {
	if identity == "" || kp == nil || policy == nil {
		return nil, fmt.Errorf("%w: a call signer needs an identity, an NKey and a policy", ErrBadOption)
	}
	o := signerOptions{ttl: MaxTTL, now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	key, pub, err := signingKey(kp)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadOption, identity, err)
	}
	if want, ok := policy.PublicKey(identity); ok && want != pub {
		return nil, fmt.Errorf("%w: the NKey given for %s is not the key the matrix has for it", ErrBadOption, identity)
	}
	s := &Signer{identity: identity, policy: policy, opts: o}
	s.cur.Store(newSigningState(key, pub))
	return s, nil
}

func newSigningState(key ed25519.PrivateKey, pub string) *signingState {
	return &signingState{issuer: pub, key: key, tokens: map[tokenFor]signedToken{}}
}

// Rotate makes the signer sign with kp from now on: the tokens it made with
// its previous key are no longer handed out. Booths must accept kp's public
// key before its first token arrives (a rotation publishes the new public
// key first, then the new seed).
func (s *Signer) Rotate(kp nkeys.KeyPair) error {
	if kp == nil {
		return fmt.Errorf("%w: rotating the signer of %s to a nil NKey", ErrBadOption, s.identity)
	}
	key, pub, err := signingKey(kp)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadOption, s.identity, err)
	}
	if s.cur.Load().issuer != pub {
		s.cur.Store(newSigningState(key, pub))
	}
	return nil
}

// Issuer returns the public NKey the signer signs with now (its tokens'
// iss).
func (s *Signer) Issuer() string { return s.cur.Load().issuer }

// Identity returns the identity the signer signs as.
func (s *Signer) Identity() string { return s.identity }

// Token returns a token for a call to path on service, made for the
// identity OnBehalfOf put in ctx or else for the signer's own. It refuses
// with CodePermissionDenied, before anything is sent, a call the policy does
// not allow.
func (s *Signer) Token(ctx context.Context, service, path string) (string, error) {
	t, _, err := s.token(ctx, service, path)
	return t.raw, err
}

// token is Token, with the Authorization value and the token's subject.
func (s *Signer) token(ctx context.Context, service, path string) (signedToken, string, error) {
	subject := s.identity
	if who := onBehalfOf(ctx); who != "" && who != s.identity {
		if !s.policy.MayActFor(s.identity, who) {
			return signedToken{}, "", rpc.Errorf(rpc.CodePermissionDenied, "%s may not call on behalf of %s", s.identity, clipName(who))
		}
		subject = who
	}
	if !s.policy.Allowed(subject, service, path) {
		return signedToken{}, "", rpc.Errorf(rpc.CodePermissionDenied, "the matrix does not allow %s to call %s %s", subject, service, normalizePath(path))
	}
	k := tokenFor{subject, service}
	now := s.opts.now()
	st := s.cur.Load()
	st.mu.RLock()
	t, ok := st.tokens[k]
	st.mu.RUnlock()
	if ok && now.Before(t.refresh) {
		return t, subject, nil
	}
	raw, err := s.sign(st, subject, service, now)
	if err != nil {
		return signedToken{}, "", err
	}
	t = signedToken{raw: raw, header: "Bearer " + raw, refresh: now.Add(s.opts.ttl - RefreshBefore)}
	st.mu.Lock()
	st.tokens[k] = t
	st.mu.Unlock()
	return t, subject, nil
}

func (s *Signer) sign(st *signingState, subject, service string, now time.Time) (string, error) {
	c := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    st.issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{service},
			ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        newTokenID(),
		},
		Paths: slices.Clone(s.policy.Paths(subject, service)),
	}
	if subject != s.identity {
		c.Act = &Actor{Sub: s.identity}
	}
	raw, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(st.key)
	if err != nil {
		return "", rpc.Errorf(rpc.CodeInternal, "signing the call token of %s: %v", s.identity, err)
	}
	return raw, nil
}

// Middleware returns the client middleware (for WithAttemptMiddleware) that
// puts the token in the Authorization header of every attempt and names the
// token's subject in HeaderCaller.
func (s *Signer) Middleware() rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			t, subject, err := s.token(ctx, req.Service, req.Path)
			if err != nil {
				return nil, err
			}
			req.Header.Set(rpc.HeaderAuthorization, t.header)
			if v := req.Header[rpc.HeaderCaller]; len(v) != 1 || v[0] != subject {
				req.Header.Set(rpc.HeaderCaller, subject) // the client's WithCaller set it already, usually
			}
			return next(ctx, req)
		}
	}
}

// clipName shortens a name that came from outside before it goes into an
// error message.
func clipName(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// newTokenID returns a token's jti: 16 random bytes in unpadded base64url,
// 22 characters where a UUID takes 36, in every call's header.
func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
