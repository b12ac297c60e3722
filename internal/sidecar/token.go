package sidecar

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// apiToken returns the outbound endpoint's CallerFunc: a request that
// presents token as "Authorization: Bearer <token>" calls as identity;
// any other is refused with 401 before anything is published.
func apiToken(identity, token string) bridge.CallerFunc {
	want := []byte(token)
	return func(r *http.Request) (string, error) {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			return "", rpc.Errorf(rpc.CodeUnauthenticated, "the sidecar's API token is required: send Authorization: Bearer <token>")
		}
		return identity, nil
	}
}
