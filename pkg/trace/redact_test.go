package trace

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestErrorText(t *testing.T) {
	t.Parallel()
	jwt := "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJnYXRld2F5In0.c2lnbmF0dXJl"
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"coded message kept", rpc.Errorf(rpc.CodeNotFound, "no fee for %q", "astronaut"), `no fee for "astronaut"`},
		{"uncoded error hidden", errors.New("db password=hunter2"), "internal error in fee-calc /calculate"},
		{"dashed SSN masked", rpc.Errorf(rpc.CodeBadRequest, "user 123-45-6789 unknown"), "user ***-**-6789 unknown"},
		{"bare SSN masked", rpc.Errorf(rpc.CodeBadRequest, "user 123456789 unknown"), "user *****6789 unknown"},
		{"bearer token masked", rpc.Errorf(rpc.CodeUnauthenticated, "bad Authorization: Bearer abc.def"), "bad Authorization: Bearer [redacted]"},
		{"JWT masked", rpc.Errorf(rpc.CodeUnauthenticated, "token %s expired", jwt), "token [redacted token] expired"},
		{"NKey seed masked", rpc.Errorf(rpc.CodeInternal, "seed SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU leaked"), "seed [redacted seed] leaked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorText(tt.err, "fee-calc", "/calculate"); got != tt.want {
				t.Errorf("errorText = %q, want %q", got, tt.want)
			}
		})
	}
	long := errorText(rpc.Errorf(rpc.CodeInternal, "%s", strings.Repeat("é", 400)), "s", "/p")
	if len(long) > maxErrorText+len("…") || !strings.HasSuffix(long, "…") || !utf8.ValidString(long) {
		t.Errorf("long error text not cut to %d bytes: %d bytes", maxErrorText, len(long))
	}
}
