package calltoken_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// keySetOf is the fixture's keys as a key set, with extra keys added.
func keySetOf(f *authFixture, extra map[string]string) *calltoken.KeySet {
	ks := &calltoken.KeySet{Keys: map[string][]string{}, Revoked: map[string]bool{}}
	for id, kp := range f.keys {
		pub, _ := kp.PublicKey()
		ks.Keys[id] = []string{pub}
	}
	for id, pub := range extra {
		ks.Keys[id] = append(ks.Keys[id], pub)
	}
	return ks
}

// A rotated signer signs with its new key at once; a booth accepts both
// keys while its key set lists both, and only the new one after.
func TestRotationOverlapThenOnlyTheNewKey(t *testing.T) {
	f := newAuthFixture(t)
	ctx := context.Background()
	s := f.signer(t, "gateway")
	before, err := s.Token(ctx, "fee-calc", "/calculate")
	if err != nil {
		t.Fatal(err)
	}
	next, _ := nkeys.CreateUser()
	nextPub, _ := next.PublicKey()
	v, err := calltoken.NewVerifier("fee-calc", f.policy, calltoken.WithKeySet(keySetOf(f, map[string]string{"gateway": nextPub})))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(next); err != nil {
		t.Fatal(err)
	}
	if got := s.Issuer(); got != nextPub {
		t.Fatalf("issuer after rotation = %s, want the new key", got)
	}
	after, err := s.Token(ctx, "fee-calc", "/calculate")
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatal("the rotated signer handed out a token of its old key")
	}
	for name, tok := range map[string]string{"old key": before, "new key": after} {
		if _, err := v.Verify("Bearer "+tok, "/calculate", "gateway"); err != nil {
			t.Errorf("during the overlap, a token of the %s: %v", name, err)
		}
	}
	// The overlap ends: the set keeps the new key only.
	ks := keySetOf(f, nil)
	ks.Keys["gateway"] = []string{nextPub}
	v.SetKeySet(ks)
	if _, err := v.Verify("Bearer "+after, "/calculate", "gateway"); err != nil {
		t.Errorf("after the overlap, a token of the new key: %v", err)
	}
	_, err = v.Verify("Bearer "+before, "/calculate", "gateway")
	if rpc.CodeOf(err) != rpc.CodeUnauthenticated || !strings.Contains(err.Error(), "iss is not a key of") {
		t.Errorf("after the overlap, a token of the old key (verified and cached before): %v, want 401", err)
	}
}

func TestRotateRefusesANilKey(t *testing.T) {
	f := newAuthFixture(t)
	if err := f.signer(t, "gateway").Rotate(nil); !errors.Is(err, calltoken.ErrBadOption) {
		t.Errorf("err = %v, want ErrBadOption", err)
	}
}

// A revoked identity's tokens are refused on the next call, cached or not,
// as the caller and as the actor; the others' still pass.
func TestRevokedIdentitiesAreRefusedAtTheNextCall(t *testing.T) {
	f := newAuthFixture(t)
	ctx := context.Background()
	ks := keySetOf(f, nil)
	v, err := calltoken.NewVerifier("payment", f.policy, calltoken.WithKeySet(ks))
	if err != nil {
		t.Fatal(err)
	}
	own, _ := f.signer(t, "gateway").Token(ctx, "payment", "/charge")
	acted, _ := f.signer(t, "bridge").Token(calltoken.OnBehalfOf(ctx, "gateway"), "payment", "/charge")
	for _, tok := range []string{own, acted} {
		if _, err := v.Verify("Bearer "+tok, "/charge", "gateway"); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
	}
	tests := []struct {
		revoke   string
		tok      string
		wantSays string // "" when the call passes
	}{
		{"gateway", own, "identity gateway is revoked"},
		{"gateway", acted, "identity gateway is revoked"},
		{"bridge", acted, "identity bridge is revoked"},
		{"bridge", own, ""},
	}
	for _, tt := range tests {
		revoked := keySetOf(f, nil)
		revoked.Revoked[tt.revoke] = true
		v.SetKeySet(revoked)
		_, err := v.Verify("Bearer "+tt.tok, "/charge", "gateway")
		if tt.wantSays == "" {
			if err != nil {
				t.Errorf("%s revoked: a call that does not involve it: %v", tt.revoke, err)
			}
			continue
		}
		var re *calltoken.RevokedError
		if rpc.CodeOf(err) != rpc.CodeUnauthenticated || !errors.As(err, &re) || !strings.Contains(err.Error(), tt.wantSays) {
			t.Errorf("%s revoked: err = %v, want 401 saying %q with a RevokedError", tt.revoke, err, tt.wantSays)
		}
	}
}
