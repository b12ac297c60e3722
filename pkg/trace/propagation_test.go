package trace

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

const validTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestParseTraceparent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr string // "" means valid
	}{
		{"valid sampled", validTP, ""},
		{"valid not sampled", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", ""},
		{"valid other flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", ""},
		{"empty", "", "want 55 characters, got 0"},
		{"too short", validTP[:54], "want 55 characters, got 54"},
		{"too long", validTP + "-", "want 55 characters, got 56"},
		{"future version with suffix", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", "want 55 characters"},
		{"version 01", "01" + validTP[2:], `version "01" is not supported`},
		{"version ff", "ff" + validTP[2:], `version "ff" is not supported`},
		{"uppercase trace id", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "trace id"},
		{"uppercase span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01", "parent id"},
		{"non hex trace id", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", "trace id"},
		{"non hex flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", "trace flags"},
		{"zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "trace id is all zeros"},
		{"zero parent id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "parent id is all zeros"},
		{"wrong separator", "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "separated by '-'"},
		{"shifted fields", "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01", "separated by '-'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := ParseTraceparent(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseTraceparent(%q) = %v, want no error", tt.in, err)
				}
				if got := sc.Traceparent(); got != tt.in {
					t.Errorf("Traceparent() = %q, want %q", got, tt.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseTraceparent(%q) = %+v, want error containing %q", tt.in, sc, tt.wantErr)
			}
			if !errors.Is(err, ErrTraceparent) || rpc.CodeOf(err) != rpc.CodeBadRequest {
				t.Errorf("error %v: want ErrTraceparent with code 400, got code %v", err, rpc.CodeOf(err))
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
		})
	}
}

func TestTraceparentFields(t *testing.T) {
	t.Parallel()
	sc, err := ParseTraceparent(validTP)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sc.TraceID.String(), "4bf92f3577b34da6a3ce929d0e0e4736"; got != want {
		t.Errorf("trace id = %s, want %s", got, want)
	}
	if got, want := sc.SpanID.String(), "00f067aa0ba902b7"; got != want {
		t.Errorf("span id = %s, want %s", got, want)
	}
	if sc.Flags != FlagSampled {
		t.Errorf("flags = %02x, want 01", sc.Flags)
	}
}

func TestParseTracestate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"one member", "congo=t61rcWkgMzE", "congo=t61rcWkgMzE", false},
		{"two members with blanks", " rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE ", "rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE", false},
		{"tenant key", "tenant@vendor=v1", "tenant@vendor=v1", false},
		{"empty members", "a=1,,b=2", "a=1,,b=2", false},
		{"empty", "", "", false},
		{"no equals", "congo", "", true},
		{"uppercase key", "Congo=1", "", true},
		{"comma in value", "a=b=c", "", true},
		{"control char", "a=b\x01", "", true},
		{"value ends in space before comma", "a=b ,c=d", "a=b ,c=d", false},
		{"too long", "a=" + long + ",b=" + long, "", true},
		{"too many members", strings.Repeat("k=v,", 33) + "k=v", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTracestate(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrTracestate) {
					t.Fatalf("ParseTracestate(%q) = %q, %v; want ErrTracestate", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTracestate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSpanFromHeadersDropsTracestateOfBadTraceparent(t *testing.T) {
	t.Parallel()
	if _, ok := spanFromHeaders("00-bad", "a=1"); ok {
		t.Fatal("invalid traceparent accepted")
	}
	sc, ok := spanFromHeaders(validTP, "Bad=1")
	if !ok || sc.State != "" {
		t.Fatalf("got %+v, %v; want the span with the invalid tracestate dropped", sc, ok)
	}
	sc, ok = spanFromHeaders(validTP, "a=1")
	if !ok || sc.State != "a=1" {
		t.Fatalf("got %+v, %v; want tracestate a=1 carried", sc, ok)
	}
}

func TestContextWithSpan(t *testing.T) {
	t.Parallel()
	if _, ok := SpanFromContext(context.Background()); ok {
		t.Fatal("span found in an empty ctx")
	}
	want, _ := ParseTraceparent(validTP)
	got, ok := SpanFromContext(ContextWithSpan(context.Background(), want))
	if !ok || got != want {
		t.Fatalf("SpanFromContext = %+v, %v; want %+v", got, ok, want)
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	if _, err := ParseTraceID("00000000000000000000000000000000"); !errors.Is(err, ErrZeroID) {
		t.Errorf("zero trace id: got %v, want ErrZeroID", err)
	}
	if _, err := ParseSpanID("00f067aa0ba902b"); !errors.Is(err, ErrHex) {
		t.Errorf("short span id: got %v, want ErrHex", err)
	}
	seen := map[SpanID]bool{}
	for range 1000 {
		id := newSpanID()
		if id.IsZero() || seen[id] {
			t.Fatalf("span id %s is zero or repeated", id)
		}
		seen[id] = true
	}
	// A trace id the mesh makes carries its second, for Get's hint.
	now := timeAt("2026-05-01T10:00:00.5Z")
	if got := newTraceID(now).startHint(); !got.Equal(now.Truncate(1e9)) {
		t.Errorf("start hint = %v, want %v", got, now.Truncate(1e9))
	}
	// A call without a parent span derives its trace from its request id.
	if got, want := rootTraceID("0b9f5e0c-8d1a-4a47-9d55-3f1f3f0e6a01", now).String(), "0b9f5e0c8d1a4a479d553f1f3f0e6a01"; got != want {
		t.Errorf("root trace id = %s, want %s", got, want)
	}
	if a, b := rootTraceID("key-1", now), rootTraceID("key-1", now); a != b || a.IsZero() {
		t.Errorf("root trace ids of one request id differ or are zero: %s %s", a, b)
	}
}
