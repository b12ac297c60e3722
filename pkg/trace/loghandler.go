package trace

import (
	"context"
	"log/slog"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// LogHandler wraps next so that a line logged with the ctx of a call (the
// *Context methods of slog.Logger) carries the call's trace_id and
// request_id, from the span and the rpc.CallInfo in ctx, unless the line
// names them already.
func LogHandler(next slog.Handler) slog.Handler { return &logHandler{next: next} }

type logHandler struct{ next slog.Handler }

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.next.Handle(ctx, r)
	}
	hasTrace, hasRequest := false, false
	r.Attrs(func(a slog.Attr) bool {
		hasTrace = hasTrace || a.Key == "trace_id"
		hasRequest = hasRequest || a.Key == "request_id"
		return true
	})
	if sc, ok := SpanFromContext(ctx); ok && sc.IsValid() && !hasTrace {
		r.AddAttrs(slog.String("trace_id", sc.TraceID.String()))
	}
	if id := rpc.RequestID(ctx); id != "" && !hasRequest {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.next.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{next: h.next.WithAttrs(as)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name)}
}
