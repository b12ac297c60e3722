package bridge

import (
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// codeMisdirected is the answer to a request for a host the listener does
// not serve.
const codeMisdirected rpc.Code = http.StatusMisdirectedRequest

// loopbackOnly guards the monitoring listener, which has no
// authentication, against DNS rebinding: a page of another site whose name
// now resolves to 127.0.0.1 reaches the listener from the browser, but
// names its own host in Host and its own origin in Origin. So a request is
// served only when its Host is a loopback name or address (localhost,
// 127.0.0.0/8, [::1], any port); otherwise it is 421. A request that names
// an Origin (every cross-origin fetch, and every POST, does) is served only
// when that origin is http or https on a loopback host; otherwise it is 403.
func (b *Bridge) loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			r = b.withTraceID(w, r)
			b.writeError(w, r, rpc.Errorf(codeMisdirected,
				"host %q is not a loopback name: the monitoring listener serves only localhost, 127.0.0.0/8 and [::1]", r.Host))
			return
		}
		if origin, ok := r.Header["Origin"]; ok && (len(origin) != 1 || !loopbackOrigin(origin[0])) {
			r = b.withTraceID(w, r)
			b.writeError(w, r, rpc.Errorf(rpc.CodePermissionDenied,
				"origin %q is not a loopback origin: the monitoring listener serves pages of http(s)://localhost, 127.0.0.0/8 and [::1] only", r.Header.Get("Origin")))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether hostport (a Host header: a name or an
// address, with an optional port; IPv6 in brackets) names this machine's
// loopback interface.
func loopbackHost(hostport string) bool {
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	} else if net.ParseIP(host) != nil && net.ParseIP(host).To4() == nil {
		return false // IPv6 without brackets is not a Host
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return host != "" && IsLoopback(host)
}

// loopbackOrigin reports whether origin (an Origin header) is an http or
// https origin on a loopback host.
func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	return loopbackHost(u.Host)
}
