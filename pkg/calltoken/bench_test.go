package calltoken_test

import (
	"context"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
)

// BenchmarkCallTokenSignCached is the client's cost per call once it holds
// a token for the callee.
func BenchmarkCallTokenSignCached(b *testing.B) {
	f := newAuthFixture(b)
	s := f.signer(b, "gateway")
	ctx := context.Background()
	if _, err := s.Token(ctx, "fee-calc", "/calculate"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Token(ctx, "fee-calc", "/calculate"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallTokenVerifyCached is the booth's cost per call for a token it
// has verified before.
func BenchmarkCallTokenVerifyCached(b *testing.B) {
	f := newAuthFixture(b)
	tok, err := f.signer(b, "gateway").Token(context.Background(), "fee-calc", "/calculate")
	if err != nil {
		b.Fatal(err)
	}
	v := f.verifier(b, "fee-calc")
	h := "Bearer " + tok
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(h, "/calculate", "gateway"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallTokenSignFresh and BenchmarkCallTokenVerifyFresh are the
// costs the caches save: one EdDSA signature, one full verification.
func BenchmarkCallTokenSignFresh(b *testing.B) {
	f := newAuthFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, _ := calltoken.NewSigner("gateway", f.keys["gateway"], f.policy)
		if _, err := s.Token(ctx, "fee-calc", "/calculate"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCallTokenVerifyFresh(b *testing.B) {
	f := newAuthFixture(b)
	tok, err := f.signer(b, "gateway").Token(context.Background(), "fee-calc", "/calculate")
	if err != nil {
		b.Fatal(err)
	}
	h := "Bearer " + tok
	b.ReportAllocs()
	for b.Loop() {
		v, _ := calltoken.NewVerifier("fee-calc", f.policy)
		if _, err := v.Verify(h, "/calculate", "gateway"); err != nil {
			b.Fatal(err)
		}
	}
}
