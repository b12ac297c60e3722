package subjects

import "errors"

// Sentinel errors returned (wrapped with the offending value) by the
// validating functions of this package. Test for them with errors.Is.
var (
	ErrServiceEmpty    = errors.New("service name is empty")
	ErrServiceTooLong  = errors.New("service name is longer than 63 characters")
	ErrServiceInvalid  = errors.New("service name must match ^[a-z][a-z0-9-]{0,62}$")
	ErrServiceReserved = errors.New("service name is reserved by the mesh")
	ErrPathEmpty       = errors.New("path is empty")
	ErrPathTooDeep     = errors.New("path has more than 16 segments")
	ErrSegmentEmpty    = errors.New("path segment is empty")
	ErrSegmentTooLong  = errors.New("path segment is longer than 64 characters")
	ErrWildcard        = errors.New("wildcard '*' or '>' is not allowed")
	ErrDot             = errors.New("'.' is not allowed inside a token")
	ErrWhitespace      = errors.New("whitespace or control characters are not allowed")
	ErrDollar          = errors.New("'$'-prefixed tokens are reserved for NATS")
	ErrSegmentInvalid  = errors.New("path segment must match ^[A-Za-z0-9_-]{1,64}$")
	ErrNotServiceSubj  = errors.New("subject is not a service request subject")
)
