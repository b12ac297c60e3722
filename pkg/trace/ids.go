package trace

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// TraceID identifies one trace: every hop of one logical request shares it.
// It is 16 bytes, written as 32 lowercase hex digits (W3C Trace Context).
type TraceID [16]byte

// SpanID identifies one hop: a caller's attempt or a booth's handling.
// It is 8 bytes, written as 16 lowercase hex digits.
type SpanID [8]byte

// newTraceID returns a fresh trace id. Its first four bytes are the current
// Unix second (big-endian), the other twelve are random: the reader uses the
// time as a hint of where in the stream the trace starts, and twelve random
// bytes keep ids unique (the W3C "random" rightmost 7 bytes included).
func newTraceID(now time.Time) TraceID {
	var id TraceID
	binary.BigEndian.PutUint32(id[:4], uint32(now.Unix()))
	binary.BigEndian.PutUint32(id[4:8], rand.Uint32())
	binary.BigEndian.PutUint64(id[8:], rand.Uint64())
	return id
}

// newSpanID returns a fresh, random, non-zero span id.
func newSpanID() SpanID {
	var id SpanID
	for id.IsZero() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}

// startHint returns the time embedded in a trace id made by newTraceID.
// For an id made elsewhere it is a meaningless time; callers check that it is
// plausible before using it.
func (t TraceID) startHint() time.Time {
	return time.Unix(int64(binary.BigEndian.Uint32(t[:4])), 0)
}

// IsZero reports whether t is all zeros, which W3C forbids.
func (t TraceID) IsZero() bool { return t == TraceID{} }

// String returns t as 32 lowercase hex digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// MarshalText writes t as 32 lowercase hex digits.
func (t TraceID) MarshalText() ([]byte, error) {
	b := make([]byte, 32)
	hex.Encode(b, t[:])
	return b, nil
}

// UnmarshalText reads 32 lowercase hex digits that are not all zeros.
func (t *TraceID) UnmarshalText(b []byte) error {
	id, err := ParseTraceID(string(b))
	if err != nil {
		return err
	}
	*t = id
	return nil
}

// ParseTraceID reads a trace id: exactly 32 lowercase hex digits, not all
// zeros. The error says what was wrong and has CodeBadRequest.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if err := decodeHex(id[:], s, "trace id"); err != nil {
		return TraceID{}, err
	}
	if id.IsZero() {
		return TraceID{}, rpc.Errorf(rpc.CodeBadRequest, "trace id: %w", ErrZeroID)
	}
	return id, nil
}

// IsZero reports whether s is all zeros, which W3C forbids.
func (s SpanID) IsZero() bool { return s == SpanID{} }

// String returns s as 16 lowercase hex digits.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// MarshalText writes s as 16 lowercase hex digits.
func (s SpanID) MarshalText() ([]byte, error) {
	b := make([]byte, 16)
	hex.Encode(b, s[:])
	return b, nil
}

// UnmarshalText reads 16 lowercase hex digits that are not all zeros.
func (s *SpanID) UnmarshalText(b []byte) error {
	id, err := ParseSpanID(string(b))
	if err != nil {
		return err
	}
	*s = id
	return nil
}

// ParseSpanID reads a span id: exactly 16 lowercase hex digits, not all
// zeros. The error says what was wrong and has CodeBadRequest.
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if err := decodeHex(id[:], s, "span id"); err != nil {
		return SpanID{}, err
	}
	if id.IsZero() {
		return SpanID{}, rpc.Errorf(rpc.CodeBadRequest, "span id: %w", ErrZeroID)
	}
	return id, nil
}

// decodeHex fills dst from exactly 2*len(dst) lowercase hex digits.
func decodeHex(dst []byte, s, what string) error {
	if len(s) != 2*len(dst) {
		return rpc.Errorf(rpc.CodeBadRequest, "%s: %w: want %d hex digits, got %d characters", what, ErrHex, 2*len(dst), len(s))
	}
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return rpc.Errorf(rpc.CodeBadRequest, "%s: %w: %q at offset %d", what, ErrHex, s[2*i:2*i+2], 2*i)
		}
		dst[i] = hi<<4 | lo
	}
	return nil
}

// fromHex reads one lowercase hex digit.
func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
