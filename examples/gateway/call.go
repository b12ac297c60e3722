package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// attempts is how many times a step is tried when the bridge answers 502,
// 503 or 504 or the connection fails; every attempt carries the same
// Idempotency-Key, so a step the booth did finish is not done twice.
const attempts = 3

// retryWait is the pause between attempts.
const retryWait = 100 * time.Millisecond

// maxReply bounds a reply body read from the bridge.
const maxReply = 1 << 20

// CallError is a step the bridge answered with an error.
type CallError struct {
	Service, Path string
	Status        int
	Message       string
	TraceID       string
}

// Error says which step failed and why.
func (e *CallError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Service, e.Path, e.Status, e.Message)
}

// caller calls booths through the bridge within one trace.
type caller struct {
	client  *http.Client
	baseURL string
	traceID string
}

func newCaller(client *http.Client, baseURL string) *caller {
	return &caller{client: client, baseURL: baseURL, traceID: newTraceID(time.Now())}
}

// call posts req as JSON to path on service and decodes the reply into res.
func (c *caller) call(ctx context.Context, service, path string, req, res any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s %s: encoding request: %w", service, path, err)
	}
	key := uuid.NewString()
	for n := 1; ; n++ {
		data, err := c.post(ctx, service, path, key, body)
		if err == nil {
			if err := json.Unmarshal(data, res); err != nil {
				return fmt.Errorf("%s %s: decoding reply %q: %w", service, path, data, err)
			}
			return nil
		}
		if n == attempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-time.After(retryWait):
		case <-ctx.Done():
			return err
		}
	}
}

// post makes one attempt.
func (c *caller) post(ctx context.Context, service, path, key string, body []byte) ([]byte, error) {
	url := c.baseURL + "/v1/call/" + service + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("traceparent", "00-"+c.traceID+"-"+randomHex(8)+"-01")
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", service, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxReply))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading reply: %w", service, path, err)
	}
	if res.StatusCode == http.StatusOK {
		return data, nil
	}
	var e errorReply
	if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
		e.Error.Message = fmt.Sprintf("%q", data)
	}
	return nil, &CallError{Service: service, Path: path, Status: res.StatusCode, Message: e.Error.Message, TraceID: e.Error.TraceID}
}

// errorReply is the bridge's error body.
type errorReply struct {
	Error struct {
		Message string `json:"message"`
		TraceID string `json:"trace_id"`
	} `json:"error"`
}

// retryable reports whether a failed attempt may be tried again.
func retryable(err error) bool {
	var ce *CallError
	if !errors.As(err, &ce) {
		return true // the connection failed
	}
	return ce.Status == http.StatusBadGateway || ce.Status == http.StatusServiceUnavailable || ce.Status == http.StatusGatewayTimeout
}

// newTraceID returns a W3C trace id whose first four bytes are the Unix
// second now, as the mesh makes them, so that the bridge's trace lookup
// starts reading the stream near the trace's start; the other twelve are
// random.
func newTraceID(now time.Time) string {
	b := make([]byte, 16)
	binary.BigEndian.PutUint32(b, uint32(now.Unix()))
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
