package bridge

import (
	"context"
	"errors"
	"net/http"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// handleCall serves POST /v1/call/{service}/{path...}: it checks the
// request completely, then sends the body unchanged to the service and
// answers with the reply body unchanged.
func (b *Bridge) handleCall(w http.ResponseWriter, r *http.Request, rest string) {
	target, err := parseCallPath(rest)
	if err != nil {
		b.writeError(w, r, err)
		return
	}
	id, err := requestID(r)
	if err != nil {
		b.writeError(w, r, err)
		return
	}
	w.Header().Set(rpc.HeaderRequestID, id)
	budget, err := callBudget(r, b.cfg.CallTimeout, b.cfg.MaxCallTimeout)
	if err != nil {
		b.writeError(w, r, err)
		return
	}
	if err := checkContentType(r); err != nil {
		b.writeError(w, r, err)
		return
	}
	body, err := readBody(w, r, b.maxBody)
	if err != nil {
		b.writeError(w, r, err)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), budget)
	defer cancel()
	knownSvc, knownPath := b.disc.lookup(ctx, target.service, target.subject)
	switch {
	case !knownSvc:
		b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "unknown service %q", target.service))
		return
	case !knownPath:
		b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "service %q has no path %s", target.service, target.path))
		return
	}

	res, err := b.client.Invoke(rpc.WithRequestID(ctx, id), target.service, target.path, traceHeaders(r), body)
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			err = rpc.Errorf(rpc.CodeTooLarge, "request is larger than the mesh's message limit")
		}
		b.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Data)
}
