package bridge

import (
	"net/http"
	"strings"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Route prefixes of the HTTP API.
const (
	callPrefix     = "/v1/call/"
	servicesPath   = "/v1/services"
	licensesPrefix = "/v1/licenses/"
)

// ServeHTTP routes a request by its escaped path. Every request but the
// health probes is first authenticated (Config.Caller) and then served on
// behalf of its caller; a call is also recorded as a server span, refused
// or not. The bridge routes itself rather than through http.ServeMux so
// that every answer, 404 and 405 included, is a JSON error, and so that no
// path is cleaned or redirected before it is validated:
// "/v1/call/a/%2E%2E/b" is refused, not rewritten.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if strings.HasPrefix(p, callPrefix) || p == strings.TrimSuffix(callPrefix, "/") {
		b.serveCall(w, r, strings.TrimPrefix(p, callPrefix))
		return
	}
	r = b.withTraceID(w, r)
	switch p {
	case "/healthz":
		b.get(w, r, b.handleHealthz)
		return
	case "/readyz":
		b.get(w, r, b.handleReadyz)
		return
	}
	if b.cfg.CallOnly {
		b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "no such endpoint: %s (this endpoint serves %s{service}/{path} only)", p, callPrefix))
		return
	}
	ar, err := b.authenticate(r)
	if err != nil {
		b.writeError(w, r, err)
		return
	}
	r = ar
	switch {
	case b.serveMonitoring(w, r, p):
	case strings.HasPrefix(p, servicesPath+"/"):
		name := strings.TrimPrefix(p, servicesPath+"/")
		b.get(w, r, func(w http.ResponseWriter, r *http.Request) { b.handleService(w, r, name) })
	case strings.HasPrefix(p, licensesPrefix):
		id := strings.TrimPrefix(p, licensesPrefix)
		b.get(w, r, func(w http.ResponseWriter, r *http.Request) { b.handleLicense(w, r, id) })
	default:
		b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "no such endpoint: %s", p))
	}
}

// get runs h for GET and HEAD, and answers 405 otherwise.
func (b *Bridge) get(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		b.notAllowed(w, r, http.MethodGet+", "+http.MethodHead)
		return
	}
	h(w, r)
}

func (b *Bridge) notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	b.writeError(w, r, rpc.Errorf(codeMethodNotAllowed, "method %s is not allowed on %s: use %s", r.Method, r.URL.EscapedPath(), allow))
}
