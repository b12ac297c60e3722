package trace

import (
	"errors"
	"regexp"
	"unicode/utf8"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// maxErrorText bounds the error text of an event.
const maxErrorText = 256

// codeOf is the code an event records for err.
func codeOf(err error) rpc.Code { return rpc.CodeOf(err) }

var (
	reSSN    = regexp.MustCompile(`\b\d{3}-\d{2}-(\d{4})\b`)
	reNine   = regexp.MustCompile(`\b\d{5}(\d{4})\b`)
	reBearer = regexp.MustCompile(`(?i)\bbearer\s+\S+`)
	reJWT    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	reSeed   = regexp.MustCompile(`\bS[A-Z][A-Z2-7]{50,}\b`)
)

// errorText is what an event may say about err. Only a coded *rpc.Error's
// message is used (an uncoded error may hold anything, so, like the booth's
// reply, it becomes a generic text); social security numbers, bearer tokens,
// JWTs and NKey seeds are masked and the text is cut to 256 bytes.
func errorText(err error, service, path string) string {
	var e *rpc.Error
	if !errors.As(err, &e) {
		return "internal error in " + service + " " + path
	}
	return redact(rpc.MessageOf(err))
}

// redact masks secrets and personal numbers in s and bounds its length.
func redact(s string) string {
	s = reSSN.ReplaceAllString(s, "***-**-$1")
	s = reNine.ReplaceAllString(s, "*****$1")
	s = reBearer.ReplaceAllString(s, "Bearer [redacted]")
	s = reJWT.ReplaceAllString(s, "[redacted token]")
	s = reSeed.ReplaceAllString(s, "[redacted seed]")
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
