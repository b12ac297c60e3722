package calltoken_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// FuzzVerify feeds Verifier.Verify any Authorization value, path and
// caller claim, seeded with good tokens and classic forgeries (alg none,
// HS256 keyed with the public key, another audience, expired, truncated).
// Whatever it gets, Verify refuses with 401 or 403 without quoting the
// token, or accepts a token that an independent check finds signed by the
// mesh (EdDSA, by its issuer's key, for fee-calc, unexpired), for the
// gateway, on a path it grants.
func FuzzVerify(f *testing.F) {
	// Fixed keys: the fuzzing workers, each a process of its own, then
	// accept the tokens signed in the others.
	fx := fixedAuthFixture(f)
	v := fx.verifier(f, "fee-calc")
	ctx := context.Background()
	token := func(signer string, ctx context.Context, service, path string, opts ...calltoken.SignerOption) string {
		tok, err := fx.signer(f, signer, opts...).Token(ctx, service, path)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	own := token("gateway", ctx, "fee-calc", "/calculate")
	acted := token("bridge", calltoken.OnBehalfOf(ctx, "gateway"), "fee-calc", "/calculate")
	otherAud := token("gateway", ctx, "payment", "/charge")
	old := token("gateway", ctx, "fee-calc", "/calculate", calltoken.WithClock(func() time.Time { return time.Now().Add(-5 * time.Minute) }))
	pub, _ := fx.policy.PublicKey("gateway")
	parts := strings.Split(own, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	hsHead := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + parts[1]
	mac := hmac.New(sha256.New, []byte(pub))
	mac.Write([]byte(hsHead))
	hs := hsHead + "." + b64(mac.Sum(nil))
	for _, s := range [][3]string{
		{"Bearer " + own, "/calculate", "gateway"},
		{"Bearer " + acted, "/calculate", "gateway"},
		{"bearer   " + own + "  ", "calculate", ""},
		{"Bearer " + own, "/charge", ""},
		{"Bearer " + own, "/calculate", "bridge"},
		{"Bearer " + otherAud, "/calculate", ""},
		{"Bearer " + old, "/calculate", ""},
		{"Bearer " + none, "/calculate", ""},
		{"Bearer " + hs, "/calculate", ""},
		{"Bearer " + own[:len(own)-3], "/calculate", ""},
		{"Bearer " + parts[0] + "." + parts[1], "/calculate", ""},
		{"Bearer " + strings.Repeat("A", 5000), "/calculate", ""},
		{"Basic Z2F0ZXdheTpwdw==", "/calculate", ""},
		{"Bearer", "/calculate", ""},
		{"", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, authorization, path, caller string) {
		p, err := v.Verify(authorization, path, caller)
		tok := bearerToken(authorization)
		if authorization == "Bearer "+own && (path == "/calculate" || path == "calculate") && (caller == "" || caller == "gateway") && err != nil {
			t.Fatalf("the good token was refused: %v", err)
		}
		if err != nil {
			var e *rpc.Error
			if !errors.As(err, &e) || (rpc.CodeOf(err) != rpc.CodeUnauthenticated && rpc.CodeOf(err) != rpc.CodePermissionDenied) {
				t.Fatalf("error %v (code %v), want a 401 or 403 *rpc.Error", err, rpc.CodeOf(err))
			}
			if len(tok) >= 16 && strings.Contains(err.Error(), tok) && !strings.Contains(caller+path, tok) {
				t.Fatalf("the error quotes the token: %v", err)
			}
			return
		}
		if problem := forged(fx, tok); problem != "" {
			t.Fatalf("accepted %q: %s", tok, problem)
		}
		if p.Caller != "gateway" || (p.Actor != "" && p.Actor != "bridge") {
			t.Fatalf("accepted as %+v, want the gateway (by itself or through the bridge)", p)
		}
		if strings.TrimPrefix(path, "/") != "calculate" {
			t.Fatalf("accepted for path %q, which the token does not grant", path)
		}
		if caller != "" && caller != "gateway" {
			t.Fatalf("accepted with caller claim %q for the gateway's token", caller)
		}
	})
}

// bearerToken returns what follows "Bearer " in an Authorization value, or "".
func bearerToken(h string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// fixedAuthFixture is newAuthFixture with keys derived from fixed seeds.
func fixedAuthFixture(tb testing.TB) *authFixture {
	tb.Helper()
	m, err := matrix.Parse([]byte(authMatrix))
	if err != nil {
		tb.Fatal(err)
	}
	f := &authFixture{keys: map[string]nkeys.KeyPair{}}
	pubs := map[string]string{}
	for i, id := range m.Identities() {
		raw := bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize)
		kp, err := nkeys.FromRawSeed(nkeys.PrefixByteUser, raw)
		if err != nil {
			tb.Fatal(err)
		}
		f.keys[id] = kp
		pubs[id], _ = kp.PublicKey()
	}
	if f.policy, err = m.WithKeys(pubs); err != nil {
		tb.Fatal(err)
	}
	return f
}

// forged checks an accepted token independently of the JWT library: an
// EdDSA header, claims naming its signer's key as iss, fee-calc as
// audience and a future expiry, and an ed25519 signature of its first two
// segments by that key. It returns what is wrong, or "".
func forged(fx *authFixture, tok string) string {
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		return "not three segments"
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var c struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
		Act *struct {
			Sub string `json:"sub"`
		} `json:"act"`
	}
	h, err1 := base64.RawURLEncoding.DecodeString(p[0])
	cl, err2 := base64.RawURLEncoding.DecodeString(p[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(p[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return "segments do not decode: " + err.Error()
	}
	if err := errors.Join(json.Unmarshal(h, &hdr), json.Unmarshal(cl, &c)); err != nil {
		return "header or claims are not JSON: " + err.Error()
	}
	signer := c.Sub
	if c.Act != nil {
		signer = c.Act.Sub
	}
	key, ok := fx.policy.PublicKey(signer)
	switch {
	case hdr.Alg != "EdDSA":
		return "alg " + hdr.Alg
	case !ok || c.Iss != key:
		return "iss is not the key of " + signer
	case string(c.Aud) != `"fee-calc"` && string(c.Aud) != `["fee-calc"]`:
		return "audience " + string(c.Aud)
	case time.Unix(c.Exp, 0).Before(time.Now().Add(-time.Minute)):
		return "expired"
	}
	raw, err := nkeys.Decode(nkeys.PrefixByteUser, []byte(key))
	if err != nil || !ed25519.Verify(ed25519.PublicKey(raw), []byte(p[0]+"."+p[1]), sig) {
		return "signature does not verify with the key of " + signer
	}
	return ""
}
