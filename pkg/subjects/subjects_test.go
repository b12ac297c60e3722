package subjects_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

func TestRequestValid(t *testing.T) {
	t.Parallel()
	sixteen := strings.Repeat("/s", subjects.MaxSegments)
	tests := []struct {
		name, service, path, want string
	}{
		{"one segment", "fee-calc", "/calculate", "svc.fee-calc.calculate"},
		{"no leading slash", "fee-calc", "calculate", "svc.fee-calc.calculate"},
		{"two segments", "license-printer", "/v2/generate", "svc.license-printer.v2.generate"},
		{"upper case and underscore in path", "payment", "/Charge_Now", "svc.payment.Charge_Now"},
		{"digits and dash", "a1-b2", "/x-1/2", "svc.a1-b2.x-1.2"},
		{"single letter service", "a", "/b", "svc.a.b"},
		{"longest service", strings.Repeat("a", subjects.MaxServiceLen), "/p", "svc." + strings.Repeat("a", subjects.MaxServiceLen) + ".p"},
		{"longest segment", "fee", "/" + strings.Repeat("x", subjects.MaxSegmentLen), "svc.fee." + strings.Repeat("x", subjects.MaxSegmentLen)},
		{"sixteen segments", "fee", sixteen, "svc.fee" + strings.ReplaceAll(sixteen, "/", ".")},
		{"service trailing dash", "fee-", "/p", "svc.fee-.p"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := subjects.Request(tc.service, tc.path)
			if err != nil {
				t.Fatalf("Request(%q, %q): %v", tc.service, tc.path, err)
			}
			if got != tc.want {
				t.Errorf("Request(%q, %q) = %q, want %q", tc.service, tc.path, got, tc.want)
			}
		})
	}
}

func TestRequestRefusals(t *testing.T) {
	t.Parallel()
	seventeen := strings.Repeat("/s", subjects.MaxSegments+1)
	tests := []struct {
		name, service, path string
		want                error
	}{
		// Service names.
		{"empty service", "", "/p", subjects.ErrServiceEmpty},
		{"service too long", strings.Repeat("a", subjects.MaxServiceLen+1), "/p", subjects.ErrServiceTooLong},
		{"service star", "fee*", "/p", subjects.ErrWildcard},
		{"service star alone", "*", "/p", subjects.ErrWildcard},
		{"service gt", "fee>", "/p", subjects.ErrWildcard},
		{"service gt alone", ">", "/p", subjects.ErrWildcard},
		{"service dot", "fee.calc", "/p", subjects.ErrDot},
		{"service space", "fee calc", "/p", subjects.ErrWhitespace},
		{"service tab", "fee\tcalc", "/p", subjects.ErrWhitespace},
		{"service CR", "fee\rcalc", "/p", subjects.ErrWhitespace},
		{"service LF", "fee\ncalc", "/p", subjects.ErrWhitespace},
		{"service NUL", "fee\x00", "/p", subjects.ErrWhitespace},
		{"service DEL", "fee\x7f", "/p", subjects.ErrWhitespace},
		{"service no-break space", "fee\u00a0calc", "/p", subjects.ErrWhitespace},
		{"service ideographic space", "fee\u3000calc", "/p", subjects.ErrWhitespace},
		{"service dollar", "$SRV", "/p", subjects.ErrDollar},
		{"service reserved trace", "trace", "/p", subjects.ErrServiceReserved},
		{"service reserved mesh", "mesh", "/p", subjects.ErrServiceReserved},
		{"service upper case", "Fee", "/p", subjects.ErrServiceInvalid},
		{"service leading digit", "1fee", "/p", subjects.ErrServiceInvalid},
		{"service leading dash", "-fee", "/p", subjects.ErrServiceInvalid},
		{"service underscore", "fee_calc", "/p", subjects.ErrServiceInvalid},
		{"service non-ASCII", "fée", "/p", subjects.ErrServiceInvalid},
		{"service invalid UTF-8", "fee\xff", "/p", subjects.ErrServiceInvalid},
		// Paths.
		{"empty path", "fee", "", subjects.ErrPathEmpty},
		{"slash only", "fee", "/", subjects.ErrPathEmpty},
		{"double slash", "fee", "/a//b", subjects.ErrSegmentEmpty},
		{"trailing slash", "fee", "/a/", subjects.ErrSegmentEmpty},
		{"two leading slashes", "fee", "//a", subjects.ErrSegmentEmpty},
		{"seventeen segments", "fee", seventeen, subjects.ErrPathTooDeep},
		{"segment too long", "fee", "/" + strings.Repeat("x", subjects.MaxSegmentLen+1), subjects.ErrSegmentTooLong},
		{"path star", "fee", "/a/*", subjects.ErrWildcard},
		{"path gt", "fee", "/>", subjects.ErrWildcard},
		{"path star inside", "fee", "/a*b", subjects.ErrWildcard},
		{"path dot", "fee", "/a.b", subjects.ErrDot},
		{"path dots only", "fee", "/..", subjects.ErrDot},
		{"path space", "fee", "/a b", subjects.ErrWhitespace},
		{"path tab", "fee", "/a\tb", subjects.ErrWhitespace},
		{"path CR", "fee", "/a\r", subjects.ErrWhitespace},
		{"path LF", "fee", "/a\nb", subjects.ErrWhitespace},
		{"path line separator", "fee", "/a\u2028b", subjects.ErrWhitespace},
		{"path dollar", "fee", "/$JS", subjects.ErrDollar},
		{"path non-ASCII", "fee", "/café", subjects.ErrSegmentInvalid},
		{"path zero-width space", "fee", "/a\u200bb", subjects.ErrSegmentInvalid},
		{"path punctuation", "fee", "/a+b", subjects.ErrSegmentInvalid},
		{"path query", "fee", "/a?x=1", subjects.ErrSegmentInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := subjects.Request(tc.service, tc.path)
			if err == nil {
				t.Fatalf("Request(%q, %q) = %q, want error %v", tc.service, tc.path, got, tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Request(%q, %q) error = %v, want errors.Is %v", tc.service, tc.path, err, tc.want)
			}
			if got != "" {
				t.Errorf("Request(%q, %q) returned subject %q with its error", tc.service, tc.path, got)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject, wantService, wantPath string
	}{
		{"svc.fee-calc.calculate", "fee-calc", "/calculate"},
		{"svc.license-printer.v2.generate", "license-printer", "/v2/generate"},
		{"svc.payment.Charge_Now", "payment", "/Charge_Now"},
	}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			gotService, gotPath, err := subjects.Parse(tc.subject)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.subject, err)
			}
			if gotService != tc.wantService || gotPath != tc.wantPath {
				t.Errorf("Parse(%q) = %q, %q, want %q, %q", tc.subject, gotService, gotPath, tc.wantService, tc.wantPath)
			}
		})
	}
}

func TestParseRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject string
		want    error
	}{
		{"", subjects.ErrNotServiceSubj},
		{"svc", subjects.ErrNotServiceSubj},
		{"svc.", subjects.ErrNotServiceSubj},
		{"svc.fee-calc", subjects.ErrNotServiceSubj},
		{"other.fee-calc.calculate", subjects.ErrNotServiceSubj},
		{"$SRV.PING", subjects.ErrNotServiceSubj},
		{"svc.fee-calc.a/b", subjects.ErrNotServiceSubj},
		{"svc.trace.fee-calc", subjects.ErrServiceReserved},
		{"svc.mesh.x", subjects.ErrServiceReserved},
		{"svc.fee-calc.>", subjects.ErrWildcard},
		{"svc.*.calculate", subjects.ErrWildcard},
		{"svc.fee-calc.a..b", subjects.ErrSegmentEmpty},
		{"svc.fee-calc.a.", subjects.ErrSegmentEmpty},
		{"svc.fee-calc.", subjects.ErrPathEmpty},
		{"svc..calculate", subjects.ErrServiceEmpty},
		{"svc.fee-calc.a b", subjects.ErrWhitespace},
		{"svc.fee-calc" + strings.Repeat(".s", subjects.MaxSegments+1), subjects.ErrPathTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			service, path, err := subjects.Parse(tc.subject)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) = %q, %q, %v; want errors.Is %v", tc.subject, service, path, err, tc.want)
			}
		})
	}
}

func TestTraceAndWildcards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func(string) (string, error)
		in   string
		want string
	}{
		{"Trace", subjects.Trace, "fee-calc", "svc.trace.fee-calc"},
		{"ServiceWildcard", subjects.ServiceWildcard, "fee-calc", "svc.fee-calc.>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.fn(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("%s(%q) = %q, %v; want %q", tc.name, tc.in, got, err, tc.want)
			}
			for _, bad := range []string{"", "trace", "a.b", "*", ">", "a b", "$SYS"} {
				if got, err := tc.fn(bad); err == nil {
					t.Errorf("%s(%q) = %q, want an error", tc.name, bad, got)
				}
			}
		})
	}
	if got, want := subjects.TraceWildcard, "svc.trace.>"; got != want {
		t.Errorf("TraceWildcard = %q, want %q", got, want)
	}
}

func TestReserved(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"trace": true, "mesh": true, "fee-calc": false, "": false} {
		if got := subjects.Reserved(name); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSplitPath(t *testing.T) {
	t.Parallel()
	got, err := subjects.SplitPath("/v2/generate")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"v2", "generate"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SplitPath = %q, want %q", got, want)
	}
}
