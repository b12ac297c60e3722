package bridge

import (
	"net/http"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// codeHeaderTooLarge is the answer to a header block past the limit.
const codeHeaderTooLarge rpc.Code = http.StatusRequestHeaderFieldsTooLarge

// headerFieldOverhead is what each field adds to the size of a header list
// besides its name and value (RFC 9113 section 6.5.2, RFC 7541 section 4.1).
const headerFieldOverhead = 32

// The bridge has one header limit, Config.MaxHeaderBytes (64 KiB), for
// HTTP/1.1 and HTTP/2 alike, and it answers a request past it with its JSON
// error envelope, 431, before anything is published. net/http cannot do
// that by itself: its HTTP/1.1 server counts raw bytes with 4 KiB of slack
// (so a 66 KB block was served) and writes a plain-text 431, and its HTTP/2
// server counts a header list with 320 bytes of slack and tears the
// connection down (COMPRESSION_ERROR) for one large field. So the limit is
// enforced here, in a handler, on a size that is the same whichever protocol
// carried the request: the HTTP/2 header list size of the request (every
// field's name and value plus 32, pseudo-header fields included), which
// HTTP/1.1's Host and request line map onto. net/http keeps its own guard,
// serverHeaderBytes, at twice the limit, so the blocks that reach the
// handler include every one this limit refuses; only a block past that
// guard, which no client of the mesh sends, gets net/http's own answer (a
// plain 431 over HTTP/1.1; a refused stream or connection over HTTP/2).

// serverHeaderBytes is http.Server.MaxHeaderBytes for a bridge limit:
// net/http's guard against blocks too large to read at all.
func serverHeaderBytes(limit int) int { return 2 * limit }

// limitHeaders refuses, with 431, a request whose header list is larger
// than limit bytes (see headerListSize), and passes the others to next.
func (b *Bridge) limitHeaders(limit int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := headerListSize(r); n > limit {
			r = b.withTraceID(w, r)
			if r.ProtoMajor == 1 {
				w.Header().Set("Connection", "close") // a client this far off the limit is not reused
			}
			b.writeError(w, r, rpc.Errorf(codeHeaderTooLarge,
				"request header fields are too large: %d bytes as a header list (names, values and %d per field), the limit is %d",
				n, headerFieldOverhead, limit))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerListSize is the HTTP/2 header list size of r, whichever protocol
// carried it: the pseudo-header fields (:method, :scheme, :authority,
// :path; HTTP/1.1's request line and Host) and every other field, each
// counted as its name, its value and 32.
func headerListSize(r *http.Request) int {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	n := len(":method") + len(r.Method) + len(":scheme") + len(scheme) +
		len(":authority") + len(r.Host) + len(":path") + len(r.RequestURI) + 4*headerFieldOverhead
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + headerFieldOverhead
		}
	}
	return n
}
