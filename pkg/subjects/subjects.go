package subjects

import (
	"fmt"
	"strings"
	"unicode"
)

const (
	// Prefix is the first token of every subject the mesh uses.
	Prefix = "svc"
	// TraceStream is the JetStream stream holding trace events.
	TraceStream = "SVC_TRACE"
	// MaxSegments is the largest number of path segments a call may have.
	MaxSegments = 16
	// MaxServiceLen is the longest service name allowed.
	MaxServiceLen = 63
	// MaxSegmentLen is the longest path segment allowed.
	MaxSegmentLen = 64
)

// reserved lists the service names the mesh uses for itself.
var reserved = map[string]bool{
	"trace": true, // svc.trace.<service>: trace events
	"mesh":  true, // kept for the mesh's own control subjects
}

// Reserved reports whether name is reserved by the mesh and so may not be
// used as a service name.
func Reserved(name string) bool { return reserved[name] }

// ValidateService checks a service name against the wire contract.
func ValidateService(name string) error {
	switch {
	case name == "":
		return ErrServiceEmpty
	case len(name) > MaxServiceLen:
		return fmt.Errorf("%w: %d characters", ErrServiceTooLong, len(name))
	}
	if err := tokenProblem(name); err != nil {
		return fmt.Errorf("service %q: %w", name, err)
	}
	if name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("%w: %q", ErrServiceInvalid, name)
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: %q", ErrServiceInvalid, name)
		}
	}
	if reserved[name] {
		return fmt.Errorf("%w: %q", ErrServiceReserved, name)
	}
	return nil
}

// ValidateSegment checks one path segment against the wire contract.
func ValidateSegment(seg string) error {
	switch {
	case seg == "":
		return ErrSegmentEmpty
	case len(seg) > MaxSegmentLen:
		return fmt.Errorf("%w: %d characters", ErrSegmentTooLong, len(seg))
	}
	if err := tokenProblem(seg); err != nil {
		return fmt.Errorf("path segment %q: %w", seg, err)
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: %q", ErrSegmentInvalid, seg)
		}
	}
	return nil
}

// tokenProblem names the most specific reason a token is unsafe as a NATS
// subject token, or returns nil when none of the specific reasons applies.
func tokenProblem(tok string) error {
	if tok[0] == '$' {
		return ErrDollar
	}
	nonASCII := false
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c == '*' || c == '>':
			return ErrWildcard
		case c == '.':
			return ErrDot
		case c <= ' ' || c == 0x7f:
			return ErrWhitespace
		case c >= 0x80:
			nonASCII = true
		}
	}
	// Every ASCII space is caught above; only a multi-byte token can hold
	// another Unicode space.
	if nonASCII && strings.ContainsFunc(tok, unicode.IsSpace) {
		return ErrWhitespace
	}
	return nil
}

// SplitPath splits a URL-style path ("/a/b", "a/b") into validated segments.
// A single leading slash is optional; empty segments ("a//b", trailing "/")
// are refused.
func SplitPath(path string) ([]string, error) {
	p := strings.TrimPrefix(path, "/")
	if p == "" {
		return nil, ErrPathEmpty
	}
	if n := strings.Count(p, "/") + 1; n > MaxSegments {
		return nil, fmt.Errorf("%w: %d", ErrPathTooDeep, n)
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if err := ValidateSegment(s); err != nil {
			return nil, err
		}
	}
	return segs, nil
}

// Request returns the request subject for a call to path on service:
// Request("fee-calc", "/calculate") is "svc.fee-calc.calculate".
func Request(service, path string) (string, error) {
	if err := ValidateService(service); err != nil {
		return "", err
	}
	// SplitPath's checks, in its order, without its slice: this runs on
	// every call.
	p := strings.TrimPrefix(path, "/")
	if p == "" {
		return "", ErrPathEmpty
	}
	if n := strings.Count(p, "/") + 1; n > MaxSegments {
		return "", fmt.Errorf("%w: %d", ErrPathTooDeep, n)
	}
	var b strings.Builder
	b.Grow(len(Prefix) + 1 + len(service) + 1 + len(p))
	b.WriteString(Prefix)
	b.WriteByte('.')
	b.WriteString(service)
	for rest, more := p, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		if err := ValidateSegment(seg); err != nil {
			return "", err
		}
		b.WriteByte('.')
		b.WriteString(seg)
	}
	return b.String(), nil
}

// Parse is the inverse of Request: it returns the service and the path (with
// a leading slash) a request subject addresses. Only subjects Request
// produces are accepted.
func Parse(subject string) (service, path string, err error) {
	rest, ok := strings.CutPrefix(subject, Prefix+".")
	if !ok {
		return "", "", fmt.Errorf("%w: %q", ErrNotServiceSubj, subject)
	}
	service, p, ok := strings.Cut(rest, ".")
	if !ok {
		return "", "", fmt.Errorf("%w: %q has no path", ErrNotServiceSubj, subject)
	}
	if strings.Contains(p, "/") {
		return "", "", fmt.Errorf("%w: %q has '/' inside a token", ErrNotServiceSubj, subject)
	}
	path = "/" + strings.ReplaceAll(p, ".", "/")
	if _, err := Request(service, path); err != nil {
		return "", "", err
	}
	return service, path, nil
}

// ServiceWildcard returns the subject that matches every request to service,
// "svc.<service>.>", for permissions and monitoring.
func ServiceWildcard(service string) (string, error) {
	if err := ValidateService(service); err != nil {
		return "", err
	}
	return Prefix + "." + service + ".>", nil
}

// Trace returns the subject trace events of service are published on,
// "svc.trace.<service>".
func Trace(service string) (string, error) {
	if err := ValidateService(service); err != nil {
		return "", err
	}
	return Prefix + ".trace." + service, nil
}

// TraceWildcard matches the trace events of every service.
const TraceWildcard = Prefix + ".trace.>"
