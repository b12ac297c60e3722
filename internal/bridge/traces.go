package bridge

import (
	"context"
	"net/http"
	"time"

	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// traceLookupTimeout bounds a GET /v1/traces/{trace_id}: a trace older
// than the stream's recent messages costs a scan of its headers.
const traceLookupTimeout = 10 * time.Second

// serveCtxKey carries, in every request's context, the ctx of the Serve
// that accepted it: live streams end with it, since Shutdown waits for
// them rather than ending them.
type serveCtxKey struct{}

// handleTrace serves GET /v1/traces/{trace_id}: the trace's hops in causal
// order and its Mermaid sequence diagram, of the events their emitters may
// have made (trace.MayEmit; the others are counted on b.screen). A malformed id is 400, a trace
// with no stored hop 404.
func (b *Bridge) handleTrace(w http.ResponseWriter, r *http.Request, raw string) {
	id, err := trace.ParseTraceID(raw)
	if err != nil {
		b.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), traceLookupTimeout)
	defer cancel()
	events, err := trace.Get(ctx, b.js, id, trace.WithScreen(b.screen))
	if err != nil {
		b.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ui.NewTrace(id, events))
}

// handleLive serves GET /v1/traces/live[?since=5m]: every trace event its
// emitter may have made (as handleTrace), as Server-Sent Events, from since (default: only new ones) until the client
// goes away or the server shuts down.
func (b *Bridge) handleLive(w http.ResponseWriter, r *http.Request) {
	from, err := ui.ParseSince(r.URL.Query().Get("since"), time.Now())
	if err != nil {
		b.writeError(w, r, err)
		return
	}
	follow := func(ctx context.Context, fn func(trace.Event) error) error {
		return trace.Follow(ctx, b.js, from, fn, trace.WithScreen(b.screen))
	}
	opts := []ui.SSEOption{ui.WithHeartbeat(b.cfg.SSEHeartbeat)}
	if stop, ok := r.Context().Value(serveCtxKey{}).(context.Context); ok {
		opts = append(opts, ui.WithStop(stop))
	}
	if err := ui.SSE(w, r, follow, opts...); err != nil {
		b.log.Warn("live trace stream ended", "error", err)
	}
}
