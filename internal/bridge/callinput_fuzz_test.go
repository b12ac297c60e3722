package bridge

import (
	"net/http"
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

// FuzzTraceparent checks that only well-formed traceparents are passed on.
func FuzzTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("00-00000000000000000000000000000000-00f067aa0ba902b7-01")
	f.Add("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")
	f.Fuzz(func(t *testing.T, v string) {
		r, _ := newRequestWithHeader("traceparent", v)
		tp := traceparent(r)
		if v == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" && tp != v {
			t.Fatalf("valid %q dropped", v)
		}
		if tp == "" {
			return
		}
		if tp != v || len(tp) != 55 || !lowerHex(tp[3:35]) || allZero(tp[3:35]) {
			t.Fatalf("%q passed as %q", v, tp)
		}
	})
}

func newRequestWithHeader(k, v string) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	if err != nil {
		return nil, err
	}
	r.Header.Set(k, v)
	return r, nil
}
