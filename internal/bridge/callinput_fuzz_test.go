package bridge

import (
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// FuzzParseCallPath checks that whatever the escaped URL rest holds, an
// accepted call names exactly one safe request subject that parses back
// to the same service and path.
func FuzzParseCallPath(f *testing.F) {
	for _, s := range []string{
		"fee-calc/calculate", "fee-calc/a/b/c", "a.b/x", "fee-calc/*", "fee-calc/%3E",
		"fee-calc/a%2Eb", "fee-calc/a%2Fb", "$SYS/x", "_INBOX/x", "fee-calc/a%20b",
		"fee-calc/%61", "fee-calc/", "/x", "fee-calc//x", "fee-calc/..", "trace/x",
		"fee-calc" + strings.Repeat("/a", 17),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		got, err := parseCallPath(rest)
		if err != nil {
			return
		}
		if strings.ContainsAny(got.subject, "*> \t\r\n%$") || strings.Contains(got.subject, "..") {
			t.Fatalf("%q accepted as unsafe subject %q", rest, got.subject)
		}
		svc, path, err := subjects.Parse(got.subject)
		if err != nil || svc != got.service || path != got.path {
			t.Fatalf("%q -> %+v does not round-trip: %q %q %v", rest, got, svc, path, err)
		}
		if "/"+rest != "/"+got.service+got.path {
			t.Fatalf("%q accepted as %s%s: the URL was rewritten", rest, got.service, got.path)
		}
	})
}
