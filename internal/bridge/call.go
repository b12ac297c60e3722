package bridge

import (
	"context"
	"errors"
	"net/http"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// serveCall serves /v1/call/{service}/{path...} as one server span of the
// bridge, recorded whatever the outcome: a request refused before anything
// is published (unauthenticated, malformed) gets a trace id and a span too.
// The span is the child of the caller's traceparent and the parent of the
// attempts the call makes.
func (b *Bridge) serveCall(w http.ResponseWriter, r *http.Request, rest string) {
	caller, err := b.cfg.Caller(r)
	id, idErr := requestID(r)
	r, span := b.startSpan(w, r, b.tracer, caller, id)
	if err == nil {
		r = b.onBehalfOf(r, caller)
		err = b.call(w, r, rest, id, idErr)
	}
	if err != nil {
		b.writeError(w, r, err)
	}
	span.End(err)
}

// call checks the request completely, then sends the body unchanged to the
// service and answers with the reply body unchanged. It returns the error
// to answer with instead, having written nothing.
func (b *Bridge) call(w http.ResponseWriter, r *http.Request, rest, id string, idErr error) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return rpc.Errorf(codeMethodNotAllowed, "method %s is not allowed on %s: use %s", r.Method, r.URL.EscapedPath(), http.MethodPost)
	}
	target, err := parseCallPath(rest)
	if err != nil {
		return err
	}
	if idErr != nil {
		return idErr
	}
	w.Header().Set(rpc.HeaderRequestID, id)
	budget, err := callBudget(r, b.cfg.CallTimeout, b.cfg.MaxCallTimeout)
	if err != nil {
		return err
	}
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := readBody(w, r, b.maxBody)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(r.Context(), budget)
	defer cancel()
	if !b.cfg.CallOnly {
		knownSvc, knownPath := b.disc.lookup(ctx, target.service, target.subject)
		switch {
		case !knownSvc:
			return rpc.Errorf(rpc.CodeNotFound, "unknown service %q", target.service)
		case !knownPath:
			return rpc.Errorf(rpc.CodeNotFound, "service %q has no path %s", target.service, target.path)
		}
	}

	res, err := b.client.Invoke(rpc.WithRequestID(ctx, id), target.service, target.path, nil, body)
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			err = rpc.Errorf(rpc.CodeTooLarge, "request is larger than the mesh's message limit")
		}
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Data)
	return nil
}
