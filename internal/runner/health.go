package runner

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// healthStatus is the body of /healthz and /readyz.
type healthStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// serveHealth listens on addr and serves r's /healthz and /readyz there, and
// nothing else. It has no authentication and may listen on any address:
// the answers reveal no data, and a kubelet's probes come from off the pod.
func serveHealth(addr string, r *Runner, log *slog.Logger) (*httpServer, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeHealth(w, http.StatusOK, healthStatus{Status: "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if reason := r.notReady(); reason != "" {
			writeHealth(w, http.StatusServiceUnavailable, healthStatus{Status: "not ready", Reason: reason})
			return
		}
		writeHealth(w, http.StatusOK, healthStatus{Status: "ready"})
	})
	hs, err := serveHTTP("--health-listen", addr, mux, log)
	if err != nil {
		return nil, err
	}
	log.Info("health listening (/healthz, /readyz only)", "addr", hs.addr.String())
	return hs, nil
}

// notReady says why the runner should get no calls, or "" when every booth
// serves on a connected NATS connection: still starting, draining, or a
// connection that is down.
func (r *Runner) notReady() string {
	switch {
	case r.stopping.Load():
		return "draining"
	case !r.serving.Load():
		return "starting"
	}
	for _, m := range r.members {
		if nc := m.Conn(); !nc.IsConnected() {
			return fmt.Sprintf("%s: NATS connection is %s", m.Identity(), nc.Status())
		}
	}
	return ""
}

func writeHealth(w http.ResponseWriter, code int, h healthStatus) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}
