package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// HeaderIdempotencyKey is the gateway's name for the request id; it is
// accepted as an alias of rpc.HeaderRequestID.
const HeaderIdempotencyKey = "Idempotency-Key"

// callTarget is the validated service and path of a call.
type callTarget struct {
	service, path, subject string
}

// parseCallPath validates the escaped rest of a call URL, "<service>/<path>",
// token by token. A percent-encoded token is refused: no valid token needs
// encoding, and decoding one could smuggle a '.', '/' or wildcard into the
// subject.
func parseCallPath(escaped string) (callTarget, error) {
	toks := strings.Split(escaped, "/")
	svc, segs := toks[0], toks[1:]
	if svc == "" {
		return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "call URL names no service: want /v1/call/{service}/{path}")
	}
	if err := checkEncoded(svc); err != nil {
		return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "service: %v", err)
	}
	if err := subjects.ValidateService(svc); err != nil {
		return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "service: %v", err)
	}
	if len(segs) == 0 || len(segs) == 1 && segs[0] == "" {
		return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "path: %v: want /v1/call/%s/{path}", subjects.ErrPathEmpty, svc)
	}
	if len(segs) > subjects.MaxSegments {
		return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "path: %v: %d", subjects.ErrPathTooDeep, len(segs))
	}
	for _, s := range segs {
		if err := checkEncoded(s); err != nil {
			return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "path: %v", err)
		}
		if err := subjects.ValidateSegment(s); err != nil {
			return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "path: %v", err)
		}
	}
	path := "/" + strings.Join(segs, "/")
	subject, err := subjects.Request(svc, path)
	if err != nil {
		return callTarget{}, rpc.Errorf(rpc.CodeBadRequest, "%v", err)
	}
	return callTarget{service: svc, path: path, subject: subject}, nil
}

// checkEncoded refuses a token holding percent-encoding, naming what it
// decodes to and why that is not allowed.
func checkEncoded(tok string) error {
	if !strings.Contains(tok, "%") {
		return nil
	}
	dec, err := url.PathUnescape(tok)
	if err != nil {
		return fmt.Errorf("token %q: malformed percent-encoding", tok)
	}
	var why string
	switch {
	case strings.Contains(dec, "/"):
		why = "an encoded '/' (%2F) would split a token"
	case strings.Contains(dec, "."):
		why = "an encoded '.' (%2E) would split a subject token"
	default:
		if err := subjects.ValidateSegment(dec); err != nil {
			why = err.Error()
		} else {
			why = "no valid token needs encoding"
		}
	}
	return fmt.Errorf("token %q decodes to %q: percent-encoding is not allowed: %s", tok, dec, why)
}

// requestID returns the request's idempotency key (Idempotency-Key or
// Svc-Request-Id, a UUID in its 36-character form), or a fresh one.
func requestID(r *http.Request) (string, error) {
	id := r.Header.Get(rpc.HeaderRequestID)
	key := r.Header.Get(HeaderIdempotencyKey)
	switch {
	case id != "" && key != "" && !strings.EqualFold(id, key):
		return "", rpc.Errorf(rpc.CodeBadRequest, "%s %q and %s %q disagree: send one", HeaderIdempotencyKey, key, rpc.HeaderRequestID, id)
	case id == "":
		id = key
	}
	if id == "" {
		return uuid.NewString(), nil
	}
	if len(id) != 36 || uuid.Validate(id) != nil {
		return "", rpc.Errorf(rpc.CodeBadRequest, "request id %q is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", id)
	}
	return strings.ToLower(id), nil
}

// callBudget returns the time the call may take: the Svc-Timeout-Ms header
// (whole milliseconds) capped at max, or def when absent.
func callBudget(r *http.Request, def, max time.Duration) (time.Duration, error) {
	v := r.Header.Get(rpc.HeaderTimeout)
	if v == "" {
		return def, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 {
		return 0, rpc.Errorf(rpc.CodeBadRequest, "%s %q must be a positive whole number of milliseconds", rpc.HeaderTimeout, v)
	}
	if ms > max.Milliseconds() {
		return max, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// checkContentType requires application/json (charset, if given, utf-8).
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return rpc.Errorf(codeUnsupportedMedia, "Content-Type is missing: send application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return rpc.Errorf(codeUnsupportedMedia, "Content-Type %q is malformed: send application/json", ct)
	}
	if mt != "application/json" {
		return rpc.Errorf(codeUnsupportedMedia, "Content-Type %q is not supported: send application/json", mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return rpc.Errorf(codeUnsupportedMedia, "charset %q is not supported: JSON is utf-8", cs)
	}
	return nil
}

// readBody reads at most max bytes of one JSON value and returns them as
// they were sent.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, tooLarge(max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(max)
		}
		return nil, rpc.Errorf(rpc.CodeBadRequest, "reading request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "request body is empty: send one JSON value")
	}
	if !json.Valid(body) {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "request body is not valid JSON: %s", jsonProblem(body))
	}
	if err := checkJSONLimits(body); err != nil {
		return nil, err
	}
	return body, nil
}

func tooLarge(max int64) error {
	return rpc.Errorf(rpc.CodeTooLarge, "request body is larger than %d bytes", max)
}

// jsonProblem says why json.Valid refused body.
func jsonProblem(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return "truncated JSON value"
		}
		return err.Error()
	}
	return fmt.Sprintf("data after the JSON value (at byte %d)", dec.InputOffset())
}
