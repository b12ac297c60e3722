package securitytest

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// edKey returns the ed25519 private key behind an NKey.
func edKey(t *testing.T, kp nkeys.KeyPair) ed25519.PrivateKey {
	t.Helper()
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := nkeys.DecodeSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(raw)
}

// keyOf returns identity's real NKey.
func keyOf(t *testing.T, identity string) nkeys.KeyPair {
	t.Helper()
	kp, err := pki.ReadKeyPair(dir, identity)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// claims are good call claims from sub to aud for paths, signed (by the
// caller of mint) with sub's key: every attack changes one thing.
func claims(t *testing.T, sub, aud string, paths ...string) jwt.MapClaims {
	t.Helper()
	pub, err := pki.ReadPublicKey(dir, sub)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ps := make([]any, len(paths))
	for i, p := range paths {
		ps[i] = p
	}
	return jwt.MapClaims{
		"iss": pub, "sub": sub, "aud": []any{aud}, "paths": ps,
		"exp": now.Add(30 * time.Second).Unix(), "iat": now.Unix(), "jti": uuid.NewString(),
	}
}

// with returns c with changes applied; a nil value deletes the claim.
func with(c jwt.MapClaims, changes map[string]any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// signEd signs c with EdDSA and kp's key.
func signEd(t *testing.T, kp nkeys.KeyPair, c jwt.Claims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(edKey(t, kp))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// realToken is what the identity's call signer sends for a call.
func realToken(t *testing.T, identity, onBehalfOf, service, path string) string {
	t.Helper()
	s, err := mesh.Credentials{Dir: dir}.Signer(identity, demo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if onBehalfOf != "" {
		ctx = calltoken.OnBehalfOf(ctx, onBehalfOf)
	}
	tok, err := s.Token(ctx, service, path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// callWith sends a raw request to path on service with the given
// Authorization and Svc-Caller values (empty ones are left out) and returns
// the reply's error code (0 for success) and message.
func callWith(t *testing.T, nc *nats.Conn, service, path, authorization, caller string) (rpc.Code, string) {
	t.Helper()
	msg := nats.NewMsg("svc." + service + strings.ReplaceAll(path, "/", "."))
	msg.Data = []byte(`{}`)
	if authorization != "" {
		msg.Header.Set(rpc.HeaderAuthorization, authorization)
	}
	if caller != "" {
		msg.Header.Set(rpc.HeaderCaller, caller)
	}
	reply, err := nc.RequestMsg(msg, 2*time.Second)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	code := reply.Header.Get(rpc.HeaderErrorCode)
	if code == "" {
		return rpc.CodeOK, ""
	}
	var c rpc.Code
	switch code {
	case "401":
		c = rpc.CodeUnauthenticated
	case "403":
		c = rpc.CodePermissionDenied
	default:
		c = rpc.CodeInternal
	}
	return c, reply.Header.Get(rpc.HeaderError)
}
