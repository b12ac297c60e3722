package otlp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// maxAnswer bounds how much of an answer's body is read.
const maxAnswer = 64 << 10

// maxRetryAfter caps the wait an endpoint's Retry-After asks for.
const maxRetryAfter = 30 * time.Second

// outcome is the result of one request.
type outcome struct {
	err   error         // nil: the endpoint took the request
	retry bool          // err may pass on a later try
	after time.Duration // the endpoint's Retry-After, if any
	// rejected and message are a partial success: spans the endpoint
	// took the request but refused, and why.
	rejected uint64
	message  string
}

// post sends one request body and reads the answer as the OTLP/HTTP
// specification says: 2xx is taken (perhaps partly), 429, 502, 503 and 504
// may be retried (after Retry-After if given), any other status is final; a
// request that got no answer may be retried.
func (e *Exporter) post(ctx context.Context, body []byte) outcome {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return outcome{err: fmt.Errorf("POST %s: %w", e.url, err)}
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	res, err := e.cfg.Client.Do(req)
	if err != nil {
		return outcome{err: fmt.Errorf("POST %s: %w", e.url, err), retry: true}
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if res.StatusCode/100 == 2 {
		rejected, msg := partialSuccess(answer)
		return outcome{rejected: rejected, message: msg}
	}
	out := outcome{err: fmt.Errorf("POST %s: %s: %s", e.url, res.Status, statusMessage(res.Header.Get("Content-Type"), answer))}
	switch res.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		out.retry = true
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			out.after = min(time.Duration(s)*time.Second, maxRetryAfter)
		}
	}
	return out
}

// partialSuccess reads an ExportTraceServiceResponse: field 1 is
// partial_success, whose field 1 is rejected_spans and field 2
// error_message. An empty or unreadable body is a full success.
func partialSuccess(b []byte) (rejected uint64, message string) {
	ps, ok := field(b, 1, protowire.BytesType)
	if !ok {
		return 0, ""
	}
	if v, ok := field(ps, 1, protowire.VarintType); ok {
		rejected, _ = protowire.ConsumeVarint(v)
	}
	if v, ok := field(ps, 2, protowire.BytesType); ok {
		message = string(v)
	}
	return rejected, message
}

// statusMessage returns the message of an error answer: a google.rpc.Status
// (its field 2) for a protobuf body, else the body's text, shortened.
func statusMessage(contentType string, b []byte) string {
	if strings.HasPrefix(contentType, "application/x-protobuf") {
		if v, ok := field(b, 2, protowire.BytesType); ok {
			return string(v)
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// field returns the last value of field num with wire type typ in the
// protobuf message b: a varint's bytes or a length-delimited field's
// contents.
func field(b []byte, num protowire.Number, typ protowire.Type) ([]byte, bool) {
	var out []byte
	found := false
	for len(b) > 0 {
		n, t, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
		vl := protowire.ConsumeFieldValue(n, t, b)
		if vl < 0 {
			return nil, false
		}
		if n == num && t == typ {
			out, found = b[:vl], true
			if t == protowire.BytesType {
				v, _ := protowire.ConsumeBytes(b[:vl])
				out = v
			}
		}
		b = b[vl:]
	}
	return out, found
}
