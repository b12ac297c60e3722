package trace

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseTraceparent(f *testing.F) {
	for _, s := range []string{validTP, "", "00-", "ff" + validTP[2:], strings.ToUpper(validTP),
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", validTP + "-extra"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseTraceparent(s)
		if err != nil {
			if !errors.Is(err, ErrTraceparent) {
				t.Fatalf("error %v does not wrap ErrTraceparent", err)
			}
			return
		}
		// Only canonical input is accepted, so formatting gives it back.
		if got := sc.Traceparent(); got != s {
			t.Fatalf("Traceparent() = %q, want %q", got, s)
		}
		if !sc.IsValid() {
			t.Fatalf("accepted %q with a zero id", s)
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(appendBatch(nil, sampleEvents()))
	f.Add([]byte(`{"v":1,"events":[]}`))
	f.Add([]byte(`{"v":1,"events":[{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := DecodeBatch(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a batch that decodes the same.
		again, err := DecodeBatch(appendBatch(nil, events))
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if len(again) != len(events) {
			t.Fatalf("got %d events back, want %d", len(again), len(events))
		}
		for i := range events {
			want := events[i]
			// encoding/json replaces invalid UTF-8 on the way out.
			if !utf8.ValidString(want.Caller + want.Service + want.Path + want.RequestID + want.Error + want.Instance + string(want.Kind)) {
				continue
			}
			if !sameEvent(again[i], want) {
				t.Fatalf("event %d changed: got %+v, want %+v", i, again[i], want)
			}
		}
	})
}
