package trace

import "errors"

// Sentinel errors, wrapped with details by the functions that return them.
// Test for them with errors.Is.
var (
	// ErrHex: an id is not the right number of lowercase hex digits.
	ErrHex = errors.New("not lowercase hex of the right length")
	// ErrZeroID: an id is all zeros, which W3C Trace Context forbids.
	ErrZeroID = errors.New("all zeros is not a valid id")
	// ErrTraceparent: a traceparent header is malformed.
	ErrTraceparent = errors.New("malformed traceparent")
	// ErrTracestate: a tracestate header is malformed.
	ErrTracestate = errors.New("malformed tracestate")
	// ErrEvent: a trace event or batch is malformed.
	ErrEvent = errors.New("malformed trace event")
	// ErrNotFound: no event of the trace is in the stream.
	ErrNotFound = errors.New("trace not found")
	// ErrClosed: the publisher is closed.
	ErrClosed = errors.New("trace publisher closed")
)
