package calltoken

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

type verifierOptions struct {
	leeway     time.Duration
	maxEntries int
	keys       *KeySet
}

// VerifierOption configures a Verifier.
type VerifierOption func(*verifierOptions) error

// WithLeeway sets the clock skew tolerated on exp, nbf and iat
// (default DefaultLeeway, at most 30 s).
func WithLeeway(d time.Duration) VerifierOption {
	return func(o *verifierOptions) error {
		if d < 0 || d > 30*time.Second {
			return fmt.Errorf("%w: token leeway must be in [0, 30s], got %v", ErrBadOption, d)
		}
		o.leeway = d
		return nil
	}
}

// WithKeySet makes the verifier take each identity's keys, and the
// revoked identities, from ks instead of the policy's one key per identity;
// SetKeySet replaces it later.
func WithKeySet(ks *KeySet) VerifierOption {
	return func(o *verifierOptions) error {
		if ks == nil {
			return fmt.Errorf("%w: nil key set", ErrBadOption)
		}
		o.keys = ks
		return nil
	}
}

// Verifier checks the call tokens a booth receives. It caches each
// verified token until it expires, so a token reused by its caller costs a
// map lookup and the per-call checks. It is safe for concurrent use.
type Verifier struct {
	service string
	policy  Policy
	opts    verifierOptions
	parser  *jwt.Parser

	keySet  atomic.Pointer[KeySet] // nil: the policy's keys, nobody revoked
	cache   atomic.Pointer[tokenCache]
	decoded sync.Map // public NKey -> ed25519.PublicKey
}

// tokenCache holds the verified tokens; SetKeySet starts a new one.
type tokenCache struct {
	m       sync.Map // raw token -> *verifiedToken
	entries atomic.Int64
}

type verifiedToken struct {
	claims  *Claims
	expires time.Time // exp plus leeway
}

// NewVerifier returns the verifier of the booth serving service.
func NewVerifier(service string, policy Policy, opts ...VerifierOption) (*Verifier, error) {
	if service == "" || policy == nil {
		return nil, fmt.Errorf("%w: a call verifier needs a service and a policy", ErrBadOption)
	}
	o := verifierOptions{leeway: DefaultLeeway, maxEntries: 10000}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	v := &Verifier{service: service, policy: policy, opts: o}
	v.cache.Store(&tokenCache{})
	if o.keys != nil {
		v.keySet.Store(o.keys)
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.leeway),
		jwt.WithAudience(service),
	)
	return v, nil
}

// SetKeySet makes ks the keys and revocations the verifier checks from the
// next call on. Tokens it verified before are verified again, so one signed
// by a key ks no longer holds is refused at once.
func (v *Verifier) SetKeySet(ks *KeySet) {
	v.keySet.Store(ks)
	v.cache.Store(&tokenCache{})
}

// Verify checks the Authorization header value of a call to path, and the
// HeaderCaller value (may be empty), and returns who the call is from. Its
// errors are *Error: CodeUnauthenticated when the token is missing or not
// good, CodePermissionDenied when it is good but does not allow this call.
// No error quotes the token.
func (v *Verifier) Verify(authorization, path, caller string) (Principal, error) {
	raw, ok := bearer(authorization)
	if !ok {
		return Principal{}, v.unauthenticated("no bearer token in the %s header", rpc.HeaderAuthorization)
	}
	c, err := v.claims(raw)
	if err != nil {
		return Principal{}, err
	}
	if ks := v.keySet.Load(); ks != nil && len(ks.Revoked) > 0 {
		// Checked on every call, cached token or not: a revocation takes
		// effect on the next call.
		for _, id := range []string{c.Subject, c.signer()} {
			if ks.Revoked[id] {
				return Principal{}, rpc.Errorf(rpc.CodeUnauthenticated, "%s: unauthenticated call: %w", v.service, &RevokedError{Identity: id})
			}
		}
	}
	if caller != "" && caller != c.Subject {
		return Principal{}, v.unauthenticated("the %s header names %s but the token was issued to %s", rpc.HeaderCaller, clipName(caller), c.Subject)
	}
	p := Principal{Caller: c.Subject}
	if c.Act != nil {
		p.Actor = c.Act.Sub
		if !v.policy.MayActFor(p.Actor, p.Caller) {
			return Principal{}, v.denied("%s may not call on behalf of %s", p.Actor, p.Caller)
		}
	}
	path = normalizePath(path)
	if !slices.Contains(c.Paths, path) && !slices.Contains(c.Paths, "*") {
		return Principal{}, v.denied("the token of %s does not grant %s", p.Caller, path)
	}
	if !v.policy.Allowed(p.Caller, v.service, path) {
		return Principal{}, v.denied("the matrix does not allow %s to call %s %s", p.Caller, v.service, path)
	}
	return p, nil
}

// claims returns the verified claims of raw, from the cache when it can.
func (v *Verifier) claims(raw string) (*Claims, error) {
	cache := v.cache.Load()
	if e, ok := cache.m.Load(raw); ok {
		vt := e.(*verifiedToken)
		if time.Now().Before(vt.expires) {
			return vt.claims, nil
		}
		if _, loaded := cache.m.LoadAndDelete(raw); loaded {
			cache.entries.Add(-1)
		}
	}
	if len(raw) > MaxLen {
		return nil, v.unauthenticated("token longer than %d bytes", MaxLen)
	}
	c := &Claims{}
	if _, err := v.parser.ParseWithClaims(raw, c, v.keyFor); err != nil {
		return nil, v.unauthenticated("%s", tokenProblem(err))
	}
	now := time.Now()
	switch {
	case c.Subject == "":
		return nil, v.unauthenticated("token has no sub")
	case c.IssuedAt == nil:
		return nil, v.unauthenticated("token has no iat")
	case c.ID == "":
		return nil, v.unauthenticated("token has no jti")
	case c.ExpiresAt.Sub(now) > MaxTTL+v.opts.leeway:
		return nil, v.unauthenticated("token lives longer than %v", MaxTTL)
	}
	v.remember(cache, raw, &verifiedToken{claims: c, expires: c.ExpiresAt.Add(v.opts.leeway)})
	return c, nil
}

// keyFor returns the key a token must be signed with: a public NKey of the
// signer (the actor, else the subject) — the policy's, or one of the key
// set's — which iss must name.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	c, ok := t.Claims.(*Claims)
	if !ok {
		return nil, keyErrorf("unexpected claims")
	}
	signer := c.signer()
	if signer == "" {
		return nil, keyErrorf("token names no signer")
	}
	pub := c.Issuer
	if ks := v.keySet.Load(); ks != nil {
		if len(ks.Keys[signer]) == 0 {
			return nil, keyErrorf("the matrix has no key for %s", clipName(signer))
		}
		if !ks.accepts(signer, pub) {
			return nil, keyErrorf("iss is not a key of %s", clipName(signer))
		}
	} else {
		want, ok := v.policy.PublicKey(signer)
		if !ok {
			return nil, keyErrorf("the matrix has no key for %s", clipName(signer))
		}
		if pub != want {
			return nil, keyErrorf("iss is not the key of %s", clipName(signer))
		}
	}
	if k, ok := v.decoded.Load(pub); ok {
		return k, nil
	}
	k, err := verifyingKey(pub)
	if err != nil {
		return nil, keyErrorf("the matrix's key for %s: %v", signer, err)
	}
	v.decoded.Store(pub, k)
	return k, nil
}

// remember caches a verified token; when the cache is full it first drops
// the expired entries, and caches nothing if that frees no room.
func (v *Verifier) remember(c *tokenCache, raw string, vt *verifiedToken) {
	if c.entries.Load() >= int64(v.opts.maxEntries) {
		now := time.Now()
		c.m.Range(func(k, e any) bool {
			if !now.Before(e.(*verifiedToken).expires) {
				if _, loaded := c.m.LoadAndDelete(k); loaded {
					c.entries.Add(-1)
				}
			}
			return true
		})
		if c.entries.Load() >= int64(v.opts.maxEntries) {
			return
		}
	}
	if _, loaded := c.m.LoadOrStore(raw, vt); !loaded {
		c.entries.Add(1)
	}
}

// Middleware returns the booth middleware (for rpc.WithBoothMiddleware)
// that refuses every call whose token Verify refuses, so the handler never
// runs for it, and otherwise records the principal in the handler's
// rpc.CallInfo: Caller, Actor and Authenticated.
func (v *Verifier) Middleware() rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			p, err := v.Verify(req.Header.Get(rpc.HeaderAuthorization), req.Path, req.Header.Get(rpc.HeaderCaller))
			if err != nil {
				return nil, err
			}
			if ci, ok := rpc.CallInfoFromContext(ctx); ok {
				ci.Caller, ci.Actor, ci.Authenticated = p.Caller, p.Actor, true
			}
			return next(ctx, req)
		}
	}
}

func (v *Verifier) unauthenticated(format string, args ...any) error {
	return rpc.Errorf(rpc.CodeUnauthenticated, v.service+": unauthenticated call: "+format, args...)
}

func (v *Verifier) denied(format string, args ...any) error {
	return rpc.Errorf(rpc.CodePermissionDenied, v.service+": call not allowed: "+format, args...)
}

// bearer extracts the token of "Bearer <token>".
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
