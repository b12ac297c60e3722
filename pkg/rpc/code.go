package rpc

import "strconv"

// Code classifies an error. Codes are HTTP-like numbers and travel on the wire
// in the Nats-Service-Error-Code header.
type Code int

// The codes of the wire contract v1.
const (
	CodeOK               Code = 0
	CodeBadRequest       Code = 400
	CodeUnauthenticated  Code = 401
	CodePermissionDenied Code = 403
	CodeNotFound         Code = 404
	CodeConflict         Code = 409
	CodeTooLarge         Code = 413
	CodeTooManyRequests  Code = 429
	// CodeCanceled means the caller gave up. It is produced on the caller's
	// side only and never sent on the wire.
	CodeCanceled         Code = 499
	CodeInternal         Code = 500
	CodeUnavailable      Code = 503
	CodeDeadlineExceeded Code = 504
)

// String returns the number as text ("404").
func (c Code) String() string { return strconv.Itoa(int(c)) }

// IsCallerMistake reports whether the code blames the caller's request
// (4xx other than 408/429/499), which must neither be retried nor count as a
// booth failure.
func (c Code) IsCallerMistake() bool {
	return c >= 400 && c < 500 && c != CodeTooManyRequests && c != CodeCanceled
}

// HTTPStatus returns the HTTP status a bridge should answer with for c.
func (c Code) HTTPStatus() int {
	switch {
	case c == CodeOK:
		return 200
	case c == CodeCanceled:
		return 499
	case c >= 400 && c < 600:
		return int(c)
	default:
		return 500
	}
}

// parseCode reads a code from its wire form; anything unreadable is Internal.
func parseCode(s string) Code {
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return CodeInternal
	}
	return Code(n)
}
