package subjects_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// FuzzRequest checks that no input produces an unsafe subject and that every
// subject produced parses back to its service and path.
func FuzzRequest(f *testing.F) {
	seeds := [][2]string{
		{"fee-calc", "/calculate"},
		{"license-printer", "v2/generate"},
		{"payment", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p"},
		{"fee", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q"},
		{"", "/x"},
		{"fee", ""},
		{"fee", "/"},
		{"fee", "//"},
		{"fee", "/a//b"},
		{"fee*", "/x"},
		{"fee", "/>"},
		{"fee.calc", "/x"},
		{"fee", "/a.b"},
		{"fee", "/a b"},
		{"fee", "/a\r\nb"},
		{"fee", "/\t"},
		{"$SRV", "/x"},
		{"fee", "/$JS"},
		{"trace", "/fee"},
		{"mesh", "/x"},
		{"fée", "/x"},
		{"fee", "/ça"},
		{"fee", "/a\u00a0"},
		{"fee\xff", "/x"},
		{strings.Repeat("a", 64), "/x"},
		{"fee", "/" + strings.Repeat("x", 65)},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, service, path string) {
		subject, err := subjects.Request(service, path)
		if err != nil {
			if subject != "" {
				t.Fatalf("Request(%q, %q) returned %q with error %v", service, path, subject, err)
			}
			return
		}
		if !strings.HasPrefix(subject, subjects.Prefix+".") {
			t.Fatalf("Request(%q, %q) = %q: not under %q", service, path, subject, subjects.Prefix+".")
		}
		if strings.ContainsAny(subject, "*>") {
			t.Fatalf("Request(%q, %q) = %q: has a wildcard", service, path, subject)
		}
		if strings.ContainsFunc(subject, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII
		}) {
			t.Fatalf("Request(%q, %q) = %q: has whitespace, a control or a non-ASCII character", service, path, subject)
		}
		tokens := strings.Split(subject, ".")
		for i, tok := range tokens {
			if tok == "" {
				t.Fatalf("Request(%q, %q) = %q: token %d is empty", service, path, subject, i)
			}
			if tok[0] == '$' {
				t.Fatalf("Request(%q, %q) = %q: token %d starts with '$'", service, path, subject, i)
			}
		}
		if len(tokens) > 2+subjects.MaxSegments {
			t.Fatalf("Request(%q, %q) = %q: %d tokens", service, path, subject, len(tokens))
		}
		if subjects.Reserved(tokens[1]) {
			t.Fatalf("Request(%q, %q) = %q: reserved service", service, path, subject)
		}
		gotService, gotPath, err := subjects.Parse(subject)
		if err != nil {
			t.Fatalf("Parse(Request(%q, %q) = %q): %v", service, path, subject, err)
		}
		wantPath := "/" + strings.TrimPrefix(path, "/")
		if gotService != service || gotPath != wantPath {
			t.Fatalf("Parse(%q) = %q, %q; want %q, %q", subject, gotService, gotPath, service, wantPath)
		}
	})
}

// FuzzParse checks that Parse accepts only subjects Request produces.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"svc.fee-calc.calculate", "svc.fee-calc.a/b", "svc.trace.x", "svc.fee.>",
		"svc.fee..a", "svc.fee", "svc.fee.a b", "svc.fee.a\u00a0", "x.fee.a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		service, path, err := subjects.Parse(subject)
		if err != nil {
			return
		}
		got, err := subjects.Request(service, path)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, %q, but Request refuses them: %v", subject, service, path, err)
		}
		if got != subject {
			t.Fatalf("Parse(%q) = %q, %q, but Request gives %q", subject, service, path, got)
		}
	})
}
