package metrics

import (
	"strings"
	"sync"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Other is the service and path label of calls past the route cap.
const Other = "_other"

// routes caps the distinct service and path pairs the client metrics
// label. The pairs first seen keep their labels.
type routes struct {
	mu   sync.RWMutex
	max  int
	seen map[[2]string]bool
}

func newRoutes(max int) *routes {
	return &routes{max: max, seen: make(map[[2]string]bool)}
}

// labels returns the service and path labels of a call.
func (r *routes) labels(service, path string) (string, string) {
	path = canonicalPath(path)
	key := [2]string{service, path}
	r.mu.RLock()
	ok, full := r.seen[key], len(r.seen) >= r.max
	r.mu.RUnlock()
	if ok {
		return service, path
	}
	if full {
		return Other, Other
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[key] && len(r.seen) >= r.max {
		return Other, Other
	}
	r.seen[key] = true
	return service, path
}

// canonicalPath writes a path with its leading slash, as booths register it.
func canonicalPath(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}

// codeLabel is the code label of a result: "ok" or the code's number.
func codeLabel(c rpc.Code) string {
	if c == rpc.CodeOK {
		return "ok"
	}
	return c.String()
}

// boothCode is the code a booth answers for a handler's error, as the
// booth's dispatch maps it: a cancellation is a timeout for the caller, and
// anything outside 400..599 is internal.
func boothCode(err error) rpc.Code {
	c := rpc.CodeOf(err)
	switch {
	case c == rpc.CodeOK:
		return c
	case c == rpc.CodeCanceled:
		return rpc.CodeDeadlineExceeded
	case c < 400 || c > 599:
		return rpc.CodeInternal
	}
	return c
}
