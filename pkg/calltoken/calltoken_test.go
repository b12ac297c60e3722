package calltoken_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

const authMatrix = `
version: 1
identities:
  gateway:
    kind: gateway
    calls:
      fee-calc: [/calculate]
      payment: ["*"]
  bridge:
    kind: bridge
    acts_for: [gateway]
  fee-calc: {kind: booth}
  payment: {kind: booth}
`

// quiet is a logger for booths whose log the test does not read.
var quiet = slog.New(slog.DiscardHandler)

// authFixture is a policy with a fresh NKey per identity.
type authFixture struct {
	policy *matrix.Matrix
	keys   map[string]nkeys.KeyPair
}

func newAuthFixture(tb testing.TB) *authFixture {
	tb.Helper()
	m, err := matrix.Parse([]byte(authMatrix))
	if err != nil {
		tb.Fatal(err)
	}
	f := &authFixture{keys: map[string]nkeys.KeyPair{}}
	pubs := map[string]string{}
	for _, id := range m.Identities() {
		kp, err := nkeys.CreateUser()
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

func (f *authFixture) signer(tb testing.TB, id string, opts ...calltoken.SignerOption) *calltoken.Signer {
	tb.Helper()
	s, err := calltoken.NewSigner(id, f.keys[id], f.policy, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (f *authFixture) verifier(tb testing.TB, service string) *calltoken.Verifier {
	tb.Helper()
	v, err := calltoken.NewVerifier(service, f.policy)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// authBooth runs service with a verifier on s; it counts handler runs and
// records the CallInfo.Caller and principal each run saw.
type authBooth struct {
	runs      atomic.Int32
	caller    atomic.Value // string
	principal atomic.Value // calltoken.Principal
}

func startAuthBooth(t *testing.T, f *authFixture, s *server.Server, service string, paths ...string) *authBooth {
	t.Helper()
	nc := natstest.Connect(t, s)
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: service}, rpc.WithLogger(quiet),
		rpc.WithBoothMiddleware(f.verifier(t, service).Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	ab := &authBooth{}
	for _, p := range paths {
		err := b.HandleRaw(p, func(ctx context.Context, m *rpc.Message) (*rpc.Message, error) {
			ab.runs.Add(1)
			ci, _ := rpc.CallInfoFromContext(ctx)
			ab.caller.Store(ci.Caller)
			ab.principal.Store(calltoken.Principal{Caller: ci.Caller, Actor: ci.Actor})
			return &rpc.Message{Data: []byte(`{}`)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The server must hold the booth's subscriptions before another
	// connection sends to them.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ab
}

func TestSignedCallsReachTheBooth(t *testing.T) {
	f := newAuthFixture(t)
	s := natstest.Start(t)
	fee := startAuthBooth(t, f, s, "fee-calc", "/calculate", "/refund")
	pay := startAuthBooth(t, f, s, "payment", "/charge")
	ctx := context.Background()

	gw, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithAttemptMiddleware(f.signer(t, "gateway").Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Call(ctx, "fee-calc", "/calculate", struct{}{}, nil); err != nil {
		t.Fatalf("gateway -> fee-calc /calculate: %v", err)
	}
	if got := fee.caller.Load(); got != "gateway" {
		t.Errorf("CallInfo.Caller = %v, want gateway", got)
	}
	if got := fee.principal.Load(); got != (calltoken.Principal{Caller: "gateway"}) {
		t.Errorf("principal = %+v, want gateway with no actor", got)
	}
	if err := gw.Call(ctx, "payment", "/charge", struct{}{}, nil); err != nil {
		t.Fatalf("gateway -> payment /charge (all paths): %v", err)
	}

	br, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithCaller("bridge"),
		rpc.WithAttemptMiddleware(f.signer(t, "bridge").Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	if err := br.Call(calltoken.OnBehalfOf(ctx, "gateway"), "payment", "/charge", struct{}{}, nil); err != nil {
		t.Fatalf("bridge for gateway -> payment /charge: %v", err)
	}
	if got := pay.principal.Load(); got != (calltoken.Principal{Caller: "gateway", Actor: "bridge"}) {
		t.Errorf("principal = %+v, want gateway by bridge", got)
	}

	tests := []struct {
		name   string
		client *rpc.Client
		ctx    context.Context
		svc    string
		path   string
	}{
		{"path the matrix does not grant", gw, ctx, "fee-calc", "/refund"},
		{"bridge as itself", br, ctx, "fee-calc", "/calculate"},
		{"bridge for a booth", br, calltoken.OnBehalfOf(ctx, "payment"), "fee-calc", "/calculate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fee.runs.Load()
			err := tt.client.Call(tt.ctx, tt.svc, tt.path, struct{}{}, nil)
			if got := rpc.CodeOf(err); got != rpc.CodePermissionDenied {
				t.Errorf("code = %v (%v), want 403", got, err)
			}
			if fee.runs.Load() != before {
				t.Error("the handler ran")
			}
		})
	}
}

func TestSignerReusesTokensUntilNearExpiry(t *testing.T) {
	f := newAuthFixture(t)
	now := time.Now()
	clock := func() time.Time { return now }
	s := f.signer(t, "gateway", calltoken.WithClock(clock))
	ctx := context.Background()
	first, err := s.Token(ctx, "fee-calc", "/calculate")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(calltoken.MaxTTL - calltoken.RefreshBefore - time.Second)
	if again, _ := s.Token(ctx, "fee-calc", "/calculate"); again != first {
		t.Error("token not reused while far from expiry")
	}
	if other, _ := s.Token(ctx, "payment", "/charge"); other == first {
		t.Error("one token for two callees")
	}
	now = now.Add(2 * time.Second)
	if fresh, _ := s.Token(ctx, "fee-calc", "/calculate"); fresh == first {
		t.Error("token reused within RefreshBefore of its expiry")
	}
	var c calltoken.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(first, &c); err != nil {
		t.Fatal(err)
	}
	gwKey, _ := f.keys["gateway"].PublicKey()
	if c.Subject != "gateway" || c.Issuer != gwKey || len(c.Audience) != 1 || c.Audience[0] != "fee-calc" ||
		c.ID == "" || c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) != calltoken.MaxTTL ||
		fmt.Sprint(c.Paths) != "[/calculate]" || c.Act != nil {
		t.Errorf("claims = %+v", c)
	}
}

func TestVerifierCachesOnlyGoodTokens(t *testing.T) {
	f := newAuthFixture(t)
	v := f.verifier(t, "fee-calc")
	tok, err := f.signer(t, "gateway").Token(context.Background(), "fee-calc", "/calculate")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p, err := v.Verify("Bearer "+tok, "/calculate", "gateway")
		if err != nil || p.Caller != "gateway" {
			t.Fatalf("verify %d: %+v, %v", i, p, err)
		}
	}
	// A cached token is still checked per call: path, caller header.
	if _, err := v.Verify("Bearer "+tok, "/refund", ""); rpc.CodeOf(err) != rpc.CodePermissionDenied {
		t.Errorf("cached token on another path: %v, want 403", err)
	}
	if _, err := v.Verify("Bearer "+tok, "/calculate", "payment"); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
		t.Errorf("cached token with another caller header: %v, want 401", err)
	}
	forged := tok[:len(tok)-4] + "AAAA"
	for range 2 {
		_, err := v.Verify("Bearer "+forged, "/calculate", "")
		if rpc.CodeOf(err) != rpc.CodeUnauthenticated {
			t.Fatalf("forged signature: %v, want 401", err)
		}
		if strings.Contains(err.Error(), forged[:20]) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}

func TestNewSignerRefusesAKeyTheMatrixDoesNotHave(t *testing.T) {
	f := newAuthFixture(t)
	_, err := calltoken.NewSigner("gateway", f.keys["payment"], f.policy)
	if !errors.Is(err, calltoken.ErrBadOption) {
		t.Errorf("err = %v, want ErrBadOption", err)
	}
}

// Every token gets its own jti: 16 random bytes, 22 characters of base64url.
func TestTokenIDsAreShortAndDistinct(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	seen := map[string]bool{}
	for range 20 {
		tok, err := f.signer(t, "gateway").Token(context.Background(), "fee-calc", "/calculate")
		if err != nil {
			t.Fatal(err)
		}
		var c calltoken.Claims
		if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(c.ID)
		if len(c.ID) != 22 || err != nil || len(raw) != 16 {
			t.Errorf("jti %q: want 16 bytes in 22 characters of unpadded base64url (%v)", c.ID, err)
		}
		if seen[c.ID] {
			t.Errorf("jti %q issued twice", c.ID)
		}
		seen[c.ID] = true
	}
}
