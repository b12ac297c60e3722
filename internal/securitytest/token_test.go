package securitytest

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Token attacks on the booths, with the broker out of the way (a server
// with no authorization, so every request reaches the booth): each is
// answered 401 or 403, says why without quoting the token, and the
// handler never runs.
func TestTokenAttacksAreRefused(t *testing.T) {
	s := natstest.Start(t)
	fee := startCountingBooth(t, natstest.Connect(t, s), "fee-calc", "/calculate", "/rates")
	pay := startCountingBooth(t, natstest.Connect(t, s), "payment", "/charge")
	attacker := natstest.Connect(t, s)

	gw, bridge, payment := keyOf(t, "gateway"), keyOf(t, "bridge"), keyOf(t, "payment")
	gwPub, _ := gw.PublicKey()
	stranger, _ := nkeys.CreateUser()
	strangerPub, _ := stranger.PublicKey()
	good := claims(t, "gateway", "fee-calc", "/calculate")
	now := time.Now()

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hsPub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good).SignedString([]byte(gwPub))
	rawPub, _ := nkeys.Decode(nkeys.PrefixByteUser, []byte(gwPub))
	hsRaw, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good).SignedString(rawPub)
	real := realToken(t, "gateway", "", "fee-calc", "/calculate")

	tests := []struct {
		name          string
		service, path string
		auth, caller  string
		want          rpc.Code
		wantMsg       string
	}{
		{"no token", "fee-calc", "/calculate", "", "", rpc.CodeUnauthenticated, "no bearer token"},
		{"not a bearer token", "fee-calc", "/calculate", "Basic Z2F0ZXdheTpwdw==", "", rpc.CodeUnauthenticated, "no bearer token"},
		{"garbage", "fee-calc", "/calculate", "Bearer not.a.jwt", "", rpc.CodeUnauthenticated, "malformed"},
		{"alg none", "fee-calc", "/calculate", "Bearer " + none, "", rpc.CodeUnauthenticated, "not signed with EdDSA"},
		{"HS256 with the public NKey as secret", "fee-calc", "/calculate", "Bearer " + hsPub, "", rpc.CodeUnauthenticated, "not signed with EdDSA"},
		{"HS256 with the raw public key as secret", "fee-calc", "/calculate", "Bearer " + hsRaw, "", rpc.CodeUnauthenticated, "not signed with EdDSA"},
		{"wrong signature (payment's key, gateway's iss)", "fee-calc", "/calculate", "Bearer " + signEd(t, payment, good), "", rpc.CodeUnauthenticated, "signature"},
		{"stranger's key as iss", "fee-calc", "/calculate", "Bearer " + signEd(t, stranger, with(good, map[string]any{"iss": strangerPub})), "", rpc.CodeUnauthenticated, "iss is not the key of"},
		{"unknown subject", "fee-calc", "/calculate", "Bearer " + signEd(t, stranger, with(good, map[string]any{"iss": strangerPub, "sub": "intruder"})), "", rpc.CodeUnauthenticated, "no key"},
		{"expired", "fee-calc", "/calculate", "Bearer " + signEd(t, gw, with(good, map[string]any{"exp": now.Add(-time.Minute).Unix(), "iat": now.Add(-2 * time.Minute).Unix()})), "", rpc.CodeUnauthenticated, "expired"},
		{"nbf in the future", "fee-calc", "/calculate", "Bearer " + signEd(t, gw, with(good, map[string]any{"nbf": now.Add(time.Minute).Unix()})), "", rpc.CodeUnauthenticated, "not valid yet"},
		{"no exp", "fee-calc", "/calculate", "Bearer " + signEd(t, gw, with(good, map[string]any{"exp": nil})), "", rpc.CodeUnauthenticated, "no exp"},
		{"no iat", "fee-calc", "/calculate", "Bearer " + signEd(t, gw, with(good, map[string]any{"iat": nil})), "", rpc.CodeUnauthenticated, "no iat"},
		{"iat in the future", "fee-calc", "/calculate", "Bearer " + signEd(t, gw, with(good, map[string]any{"iat": now.Add(time.Minute).Unix()})), "", rpc.CodeUnauthenticated, "future"},
		{"exp ten minutes ahead", "fee-calc", "/calculate", "Bearer " + signEd(t, gw, with(good, map[string]any{"exp": now.Add(10 * time.Minute).Unix()})), "", rpc.CodeUnauthenticated, "longer than"},
		{"audience of another booth", "fee-calc", "/calculate", "Bearer " + signEd(t, gw, with(good, map[string]any{"aud": []any{"payment"}})), "", rpc.CodeUnauthenticated, "audience"},
		{"token for booth A replayed to booth B", "payment", "/charge", "Bearer " + real, "", rpc.CodeUnauthenticated, "audience"},
		{"token for path A used on path B", "fee-calc", "/rates", "Bearer " + real, "", rpc.CodePermissionDenied, "does not grant /rates"},
		{"caller header disagrees with the token", "fee-calc", "/calculate", "Bearer " + real, "bridge", rpc.CodeUnauthenticated, "Svc-Caller header names"},
		{"gateway's key grants itself a path", "fee-calc", "/rates", "Bearer " + signEd(t, gw, claims(t, "gateway", "fee-calc", "/rates")), "", rpc.CodePermissionDenied, "matrix does not allow gateway"},
		{"a booth's own good token", "fee-calc", "/calculate", "Bearer " + signEd(t, payment, claims(t, "payment", "fee-calc", "/calculate")), "", rpc.CodePermissionDenied, "matrix does not allow payment"},
		{"bridge as itself", "fee-calc", "/calculate", "Bearer " + signEd(t, bridge, claims(t, "bridge", "fee-calc", "/calculate")), "", rpc.CodePermissionDenied, "matrix does not allow bridge"},
		{"bridge acting for a booth", "fee-calc", "/calculate", "Bearer " + signEd(t, bridge, with(claims(t, "bridge", "fee-calc", "/calculate"), map[string]any{"sub": "payment", "act": map[string]any{"sub": "bridge"}})), "", rpc.CodePermissionDenied, "may not call on behalf of payment"},
		{"bridge signing as the gateway without act", "fee-calc", "/calculate", "Bearer " + signEd(t, bridge, with(claims(t, "bridge", "fee-calc", "/calculate"), map[string]any{"sub": "gateway"})), "", rpc.CodeUnauthenticated, "iss is not the key of"},
		{"act claimed, gateway's iss, bridge's signature", "fee-calc", "/calculate", "Bearer " + signEd(t, bridge, with(good, map[string]any{"act": map[string]any{"sub": "bridge"}})), "", rpc.CodeUnauthenticated, "iss is not the key of"},
		{"oversized token", "fee-calc", "/calculate", "Bearer " + strings.Repeat("a", calltoken.MaxLen+1), "", rpc.CodeUnauthenticated, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := callWith(t, attacker, tt.service, tt.path, tt.auth, tt.caller)
			if got != tt.want || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("reply %v %q, want %v containing %q", got, msg, tt.want, tt.wantMsg)
			}
			if tok := strings.TrimPrefix(tt.auth, "Bearer "); len(tok) > 16 && strings.Contains(msg, tok[len(tok)-16:]) {
				t.Errorf("error message quotes the token: %q", msg)
			}
		})
	}
	if n := fee.runs.Load() + pay.runs.Load(); n != 0 {
		t.Errorf("handlers ran %d times", n)
	}
	// The real tokens do work, so the refusals above are the attacks'.
	if got, msg := callWith(t, attacker, "fee-calc", "/calculate", "Bearer "+real, "gateway"); got != rpc.CodeOK {
		t.Fatalf("the gateway's real token was refused: %v %s", got, msg)
	}
	acting := realToken(t, "bridge", "gateway", "payment", "/charge")
	if got, msg := callWith(t, attacker, "payment", "/charge", "Bearer "+acting, "gateway"); got != rpc.CodeOK {
		t.Fatalf("the bridge's token for the gateway was refused: %v %s", got, msg)
	}
	if p := pay.last.Load(); p != (calltoken.Principal{Caller: "gateway", Actor: "bridge"}) {
		t.Errorf("payment saw %+v, want gateway by bridge", p)
	}
}

// The same forged tokens sent through the secure broker, on a subject the
// sender may publish to, reach the booth and are refused there.
func TestForgedTokensThroughTheBroker(t *testing.T) {
	s := startMesh(t)
	fee := startCountingBooth(t, connectAs(t, s, "fee-calc"), "fee-calc", "/calculate")
	bridgeConn := connectAs(t, s, "bridge")
	good := claims(t, "gateway", "fee-calc", "/calculate")
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	expired := signEd(t, keyOf(t, "gateway"), with(good, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}))
	for name, tok := range map[string]string{"alg none": none, "expired": expired, "payment's signature": signEd(t, keyOf(t, "payment"), good)} {
		t.Run(name, func(t *testing.T) {
			if got, msg := callWith(t, bridgeConn, "fee-calc", "/calculate", "Bearer "+tok, ""); got != rpc.CodeUnauthenticated {
				t.Errorf("reply %v %q, want 401", got, msg)
			}
		})
	}
	if n := fee.runs.Load(); n != 0 {
		t.Errorf("handler ran %d times", n)
	}
}
