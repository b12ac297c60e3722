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
