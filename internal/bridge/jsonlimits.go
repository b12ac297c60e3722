package bridge

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Limits on a call body beyond JSON syntax. A booth in any language must be
// able to decode what the bridge forwards, so the bridge refuses what common
// JSON decoders reject or mangle: invalid UTF-8 (Go replaces it silently),
// nesting deep enough to exhaust a recursive decoder, and numbers no float64
// or int64 holds.
const (
	// MaxJSONDepth is the deepest nesting of objects and arrays accepted.
	MaxJSONDepth = 64
	// MaxJSONNumberLen is the longest number literal accepted, in bytes.
	MaxJSONNumberLen = 64
)

// checkJSONLimits reports the first limit a syntactically valid JSON body
// breaks, as a 400 naming it, or nil. It makes one pass over the bytes and
// allocates nothing for a body within the limits.
func checkJSONLimits(body []byte) error {
	if !utf8.Valid(body) {
		return rpc.Errorf(rpc.CodeBadRequest, "request body is not valid UTF-8 (at byte %d)", invalidUTF8At(body))
	}
	depth := 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			i = stringEnd(body, i)
		case c == '{' || c == '[':
			depth++
			if depth > MaxJSONDepth {
				return rpc.Errorf(rpc.CodeBadRequest, "request body nests objects and arrays deeper than %d levels (at byte %d)", MaxJSONDepth, i)
			}
		case c == '}' || c == ']':
			depth--
		case c == '-' || c >= '0' && c <= '9':
			j := i
			for j < len(body) && isNumberByte(body[j]) {
				j++
			}
			if err := checkNumber(body[i:j], i); err != nil {
				return err
			}
			i = j - 1
		}
	}
	return nil
}

// stringEnd returns the index of the quote closing the string opened at i.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return i
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// checkNumber refuses a number literal that is too long or out of the range
// of a float64.
func checkNumber(lit []byte, at int) error {
	if len(lit) > MaxJSONNumberLen {
		return rpc.Errorf(rpc.CodeBadRequest, "request body has a number of %d digits (at byte %d); at most %d are accepted", len(lit), at, MaxJSONNumberLen)
	}
	if _, err := strconv.ParseFloat(string(lit), 64); err != nil {
		return rpc.Errorf(rpc.CodeBadRequest, "request body has a number out of range: %s (at byte %d)", clipLiteral(lit), at)
	}
	return nil
}

func clipLiteral(lit []byte) string {
	if len(lit) > 24 {
		return fmt.Sprintf("%s...", lit[:24])
	}
	return string(lit)
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}
