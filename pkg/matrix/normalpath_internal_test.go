package matrix

import (
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// normalPath gives what splitting and joining the path gives, for paths
// good and bad.
func TestNormalPathAgreesWithSplitPath(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("/a", subjects.MaxSegments)
	paths := []string{
		"/calculate", "calculate", "/a/b", "a/b", "//a", "/a//b", "/a/", "/", "", "///",
		deep, deep + "/a", "/a.b", "/a*", "/>", "/$sys", "/a b", "/é", "/" + strings.Repeat("x", 300),
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			want, wantOK := "", false
			if segs, err := subjects.SplitPath(path); err == nil {
				want, wantOK = "/"+strings.Join(segs, "/"), true
			}
			got, ok := normalPath(path)
			if got != want || ok != wantOK {
				t.Errorf("normalPath(%q) = %q, %v; want %q, %v", path, got, ok, want, wantOK)
			}
		})
	}
}

// BenchmarkAllowed is the matrix check the signer and the verifier make on
// every call.
func BenchmarkAllowed(b *testing.B) {
	m, err := Parse([]byte("version: 1\nidentities:\n  gateway:\n    kind: gateway\n    calls:\n      fee-calc: [/calculate]\n  fee-calc: {kind: booth}\n"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !m.Allowed("gateway", "fee-calc", "/calculate") {
			b.Fatal("not allowed")
		}
	}
}
