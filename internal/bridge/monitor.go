package bridge

import (
	"net/http"
	"strings"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Paths of the read-only monitoring endpoints.
const (
	metricsPath   = "/metrics"
	breakersPath  = "/v1/breakers"
	tracesPrefix  = "/v1/traces/"
	liveTracePath = "/v1/traces/live"
	uiPath        = "/ui"
)

// serveMonitoring serves the read-only monitoring endpoints, reporting
// false when p is not one of them: the live page (/ui), the services and
// their breakers, the trace stream and trace lookup, and the metrics. They
// only read: no call is made, nothing is published.
func (b *Bridge) serveMonitoring(w http.ResponseWriter, r *http.Request, p string) bool {
	switch {
	case p == servicesPath:
		b.get(w, r, b.handleServices)
	case p == breakersPath:
		b.get(w, r, b.handleBreakers)
	case p == metricsPath:
		b.get(w, r, b.metricsHandler.ServeHTTP)
	case p == liveTracePath:
		if r.Method != http.MethodGet {
			b.notAllowed(w, r, http.MethodGet)
			return true
		}
		b.handleLive(w, r)
	case strings.HasPrefix(p, tracesPrefix):
		id := strings.TrimPrefix(p, tracesPrefix)
		b.get(w, r, func(w http.ResponseWriter, r *http.Request) { b.handleTrace(w, r, id) })
	case p == uiPath || strings.HasPrefix(p, uiPath+"/"):
		b.uiHandler.ServeHTTP(w, r)
	default:
		return false
	}
	return true
}

// MonitorHandler returns the handler of the monitoring listener: the health
// probes and the read-only monitoring endpoints (see serveMonitoring), with
// no authentication, for a browser or a Prometheus server on this machine.
// It makes no call and serves no license; anything else is 404. It answers
// only requests for a loopback host from no page or a loopback page
// (loopbackOnly), so that a web page cannot read it through DNS rebinding.
func (b *Bridge) MonitorHandler() http.Handler {
	return b.loopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = b.withTraceID(w, r)
		p := r.URL.EscapedPath()
		switch {
		case p == "/healthz":
			b.get(w, r, b.handleHealthz)
		case p == "/readyz":
			b.get(w, r, b.handleReadyz)
		case b.serveMonitoring(w, r, p):
		default:
			b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound,
				"%s is not served on the monitoring listener, which only reads (/ui, /v1/services, /v1/breakers, /v1/traces/live, /v1/traces/{trace_id}, /metrics, /healthz, /readyz); calls go to the HTTPS listener", p))
		}
	}))
}
