package bridge

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Codes the bridge answers with that pkg/rpc does not name.
const (
	codeMethodNotAllowed rpc.Code = http.StatusMethodNotAllowed
	codeUnsupportedMedia rpc.Code = http.StatusUnsupportedMediaType
)

// ErrorBody is the JSON body of every error the bridge answers with.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: the code (also the HTTP status), a
// message for people and the trace the request belonged to, if any.
type ErrorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	TraceID string `json:"trace_id"`
}

// writeError answers with err's code and message. An error without a code
// is logged and answered as a generic 500, so internals do not leak.
func (b *Bridge) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := rpc.CodeOf(err)
	msg := rpc.MessageOf(err)
	var coded *rpc.Error
	if !errors.As(err, &coded) {
		b.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.EscapedPath(),
			"request_id", w.Header().Get(rpc.HeaderRequestID), "error", err)
		code, msg = rpc.CodeInternal, "internal error"
	} else if code >= 500 {
		b.log.WarnContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.EscapedPath(),
			"request_id", w.Header().Get(rpc.HeaderRequestID), "code", int(code), "error", err)
	}
	if id := w.Header().Get(rpc.HeaderRequestID); code == rpc.CodeDeadlineExceeded && id != "" {
		// The booth may still finish the call (a charge, say) after the
		// caller's deadline; dedup keeps its outcome under this id.
		msg += "; the call may still complete: a retry with " + HeaderIdempotencyKey + ": " + id +
			" returns its outcome"
	}
	status := code.HTTPStatus()
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: status, Message: msg, TraceID: traceIDOf(r)}})
}

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":{"code":500,"message":"encoding the response failed","trace_id":""}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
