package calltoken

import (
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// tokenProblem says what is wrong with a token in words of our own, so no
// error echoes what the caller sent.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if strings.Contains(err.Error(), "signing method") {
			return "token not signed with EdDSA"
		}
		return "token signature does not verify"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		var ke *keyError
		if errors.As(err, &ke) {
			return "token cannot be verified: " + ke.msg
		}
		return "token cannot be verified"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token has no exp"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience is another service"
	}
	return "token not valid"
}

// keyError says why no key could be found for a token, in our words.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

func keyErrorf(format string, args ...any) error {
	return &keyError{msg: fmt.Sprintf(format, args...)}
}
