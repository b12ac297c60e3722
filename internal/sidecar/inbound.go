package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// HeaderActor names, in a call forwarded to the app, the identity that made
// the call on the caller's behalf (the bridge for the gateway); absent when
// the caller made it itself.
const HeaderActor = "Svc-Actor"

// maxMessage bounds the part of an app's error body quoted to the caller.
const maxMessage = 512

// forwarder forwards the calls of one endpoint to the app.
type forwarder struct {
	url     string // the app's URL of the endpoint
	client  *http.Client
	maxBody int64 // the largest reply the mesh can carry
}

// serve is the endpoint: it POSTs the call to the app within the call's
// deadline and turns the app's answer into the reply or a coded error.
func (f *forwarder) serve(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(req.Data))
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeInternal, "sidecar: request to the app: %w", err)
	}
	setHeaders(ctx, hreq.Header)
	res, err := f.client.Do(hreq)
	if err != nil {
		return nil, f.unreachable(ctx, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, f.maxBody+1))
	switch {
	case err != nil:
		return nil, f.unreachable(ctx, err)
	case int64(len(body)) > f.maxBody:
		return nil, rpc.Errorf(rpc.CodeInternal, "the app's answer is larger than the mesh's %d-byte limit", f.maxBody)
	}
	return answer(res.StatusCode, body)
}

// setHeaders passes the call's facts to the app: request id, caller, actor,
// attempt, the remaining deadline, and the booth's span as the trace
// context of whatever the app calls next.
func setHeaders(ctx context.Context, h http.Header) {
	h.Set("Content-Type", "application/json")
	if ci, ok := rpc.CallInfoFromContext(ctx); ok {
		h.Set(rpc.HeaderRequestID, ci.RequestID)
		if ci.Caller != "" {
			h.Set(rpc.HeaderCaller, ci.Caller)
		}
		if ci.Actor != "" {
			h.Set(HeaderActor, ci.Actor)
		}
		h.Set(rpc.HeaderAttempt, strconv.Itoa(ci.Attempt))
	}
	if d, ok := ctx.Deadline(); ok {
		h.Set(rpc.HeaderTimeout, strconv.FormatInt(max(time.Until(d).Milliseconds(), 1), 10))
	}
	if sc, ok := trace.SpanFromContext(ctx); ok && sc.IsValid() {
		h.Set(rpc.HeaderTraceparent, sc.Traceparent())
		if sc.State != "" {
			h.Set(rpc.HeaderTracestate, sc.State)
		}
	}
}

// unreachable is the error of a call the app did not answer: 504 when the
// deadline ran out first, 503 when the app is down or hung up.
func (f *forwarder) unreachable(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return rpc.Errorf(rpc.CodeDeadlineExceeded, "the app at %s did not answer within the deadline", f.url)
	}
	if ctx.Err() != nil {
		return rpc.NewError(rpc.CodeCanceled, ctx.Err())
	}
	return rpc.Errorf(rpc.CodeUnavailable, "the app at %s is not reachable: %s", f.url, reason(err))
}

// reason names why a request to the app failed, without the URL again:
// "connect: connection refused", "EOF".
func reason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return err.Error()
}

// answer maps the app's HTTP answer to the mesh's: a 2xx JSON body is the
// reply ({} when empty); a 4xx keeps its code and the app's message; a 503
// stays 503 and any other 5xx is 500; anything else, or a body that is not
// JSON, is 500.
func answer(status int, body []byte) (*rpc.Message, error) {
	switch {
	case status >= 200 && status < 300:
		if len(bytes.TrimSpace(body)) == 0 {
			return &rpc.Message{Data: []byte("{}")}, nil
		}
		if !json.Valid(body) {
			return nil, rpc.Errorf(rpc.CodeInternal, "the app answered %d with a body that is not JSON", status)
		}
		return &rpc.Message{Data: body}, nil
	case status >= 400 && status < 500:
		return nil, rpc.Errorf(rpc.Code(status), "%s", appMessage(status, body))
	case status == http.StatusServiceUnavailable:
		return nil, rpc.Errorf(rpc.CodeUnavailable, "the app is unavailable: %s", appMessage(status, body))
	case status >= 500 && status < 600:
		return nil, rpc.Errorf(rpc.CodeInternal, "the app failed (HTTP %d): %s", status, appMessage(status, body))
	}
	return nil, rpc.Errorf(rpc.CodeInternal, "the app answered HTTP %d, which the mesh does not carry", status)
}

// appMessage is the message of an app's error answer: the "message" of a
// {"error":{"message":...}} or {"message":...} body, an "error" string, or
// the body's text, clipped; the status text when there is none.
func appMessage(status int, body []byte) string {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &env) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var text string
		switch {
		case json.Unmarshal(env.Error, &inner) == nil && inner.Message != "":
			msg = inner.Message
		case json.Unmarshal(env.Error, &text) == nil && text != "":
			msg = text
		default:
			msg = env.Message
		}
	} else if utf8.Valid(body) {
		msg = strings.TrimSpace(string(body))
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "..."
	}
	return msg
}

// appURL joins the app's base URL and an endpoint's path.
func appURL(base, path string) string {
	return strings.TrimSuffix(base, "/") + path
}
