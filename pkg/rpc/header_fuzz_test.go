package rpc

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// FuzzTimeoutHeader checks that Svc-Timeout-Ms accepts exactly the decimal
// whole milliseconds in [1, 24h], round-trips through formatTimeout, and
// that the booth's deadline middleware gives a handler exactly the budget the
// header asked for, and its default when the header is refused.
func FuzzTimeoutHeader(f *testing.F) {
	for _, s := range []string{"", "1", "300", "0", "-1", "+5", " 5", "5 ", "05", "1e3", "0x10", "5ms", "1.5",
		"86400000", "86400001", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "١٢", "\x00"} {
		f.Add(s)
	}
	const def = 40 * time.Millisecond
	mw := boothDeadline(def)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseTimeout(v)
		ms, err := strconv.ParseInt(v, 10, 64)
		wantOK := err == nil && ms >= 1 && ms <= int64(24*time.Hour/time.Millisecond)
		if ok != wantOK {
			t.Fatalf("parseTimeout(%q) ok = %v, want %v", v, ok, wantOK)
		}
		want := def
		if ok {
			if d != time.Duration(ms)*time.Millisecond {
				t.Fatalf("parseTimeout(%q) = %v, want %d ms", v, d, ms)
			}
			if again, ok := parseTimeout(formatTimeout(d)); !ok || again != d {
				t.Fatalf("formatTimeout(%v) = %q does not parse back (%v, %v)", d, formatTimeout(d), again, ok)
			}
			want = d
		}

		hdr := nats.Header{}
		hdr.Set(HeaderTimeout, v)
		var dl time.Time
		var hasDeadline bool
		start := time.Now()
		_, _ = mw(func(ctx context.Context, _ *Message) (*Message, error) {
			dl, hasDeadline = ctx.Deadline()
			return nil, nil
		})(context.Background(), &Message{Header: hdr})
		end := time.Now()
		// The middleware ran between start and end, and set its deadline
		// then: exactly the budget later.
		if !hasDeadline || dl.Before(start.Add(want)) || dl.After(end.Add(want)) {
			t.Fatalf("header %q: handler's deadline %v after the call, want %v", v, dl.Sub(start), want)
		}
	})
}
