package bridge

import (
	"context"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// readyTimeout bounds the JetStream check of /readyz.
const readyTimeout = 2 * time.Second

// Health is the body of a successful /healthz or /readyz.
type Health struct {
	Status    string `json:"status"`
	NATS      string `json:"nats,omitempty"`
	JetStream string `json:"jetstream,omitempty"`
}

// handleHealthz answers while the process serves HTTP.
func (b *Bridge) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

// handleReadyz answers 200 when NATS is connected and JetStream answers
// (the connection alone with CallOnly), 503 naming the failing check
// otherwise.
func (b *Bridge) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if st := b.nc.Status(); st != nats.CONNECTED {
		b.writeError(w, r, rpc.Errorf(rpc.CodeUnavailable, "not ready: NATS connection is %s", st))
		return
	}
	if b.cfg.CallOnly {
		writeJSON(w, http.StatusOK, Health{Status: "ready", NATS: "connected"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if _, err := b.js.AccountInfo(ctx); err != nil {
		b.writeError(w, r, rpc.Errorf(rpc.CodeUnavailable, "not ready: JetStream unreachable: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, Health{Status: "ready", NATS: "connected", JetStream: "ok"})
}

// HealthHandler returns the handler of the health listener: /healthz and
// /readyz alone, in cleartext and without authentication, for a kubelet or
// a load balancer, which present no client certificate. They reveal no data
// (a status, and what is not ready), so unlike the monitoring listener it
// may listen on any address. Anything else is 404.
func (b *Bridge) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = b.withTraceID(w, r)
		switch p := r.URL.EscapedPath(); p {
		case "/healthz":
			b.get(w, r, b.handleHealthz)
		case "/readyz":
			b.get(w, r, b.handleReadyz)
		default:
			b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "%s is not served on the health listener, which answers /healthz and /readyz only", p))
		}
	})
}
