package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// flowSteps are the calls of the license flow, in order.
var flowSteps = []struct{ service, path string }{
	{"fee-calc", "/calculate"},
	{"payment", "/charge"},
	{"license-printer", "/generate"},
	{"audit-log", "/record"},
}

// FlowTrace is the bridge's answer to GET /v1/traces/{trace_id}: the hops
// in causal order and their Mermaid sequence diagram.
type FlowTrace struct {
	TraceID string        `json:"trace_id"`
	Events  []trace.Event `json:"events"`
	Mermaid string        `json:"mermaid"`
}

// pollEvery is the pause between two lookups of a trace not yet complete.
const pollEvery = 100 * time.Millisecond

// FetchTrace asks the bridge for the flow's trace until it holds every
// expected hop (for each step, the bridge's handling, its attempt and the
// booth's handling, all successful: trace events are published
// asynchronously), or until wait has passed; it then returns what it has,
// with an error saying what is missing.
func FetchTrace(ctx context.Context, client *http.Client, baseURL, traceID string, wait time.Duration) (*FlowTrace, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var last *FlowTrace
	var lastErr error
	for {
		ft, err := getTrace(ctx, client, baseURL, traceID)
		if err == nil {
			last = ft
			missing := ft.missing()
			if missing == "" {
				return ft, nil
			}
			err = fmt.Errorf("trace %s is incomplete after %v: no %s", traceID, wait, missing)
		}
		var ce *CallError
		if errors.As(err, &ce) && ce.Status != http.StatusNotFound && ce.Status < 500 {
			return nil, err // asking again will not help
		}
		if ctx.Err() == nil || lastErr == nil { // keep the reason, not the timeout
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, lastErr
		case <-time.After(pollEvery):
		}
	}
}

// getTrace makes one lookup.
func getTrace(ctx context.Context, client *http.Client, baseURL, traceID string) (*FlowTrace, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/traces/"+traceID, nil)
	if err != nil {
		return nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching trace %s: %w", traceID, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxReply))
	if err != nil {
		return nil, fmt.Errorf("fetching trace %s: %w", traceID, err)
	}
	if res.StatusCode != http.StatusOK {
		var e errorReply
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			e.Error.Message = fmt.Sprintf("%q", data)
		}
		return nil, &CallError{Service: "bridge", Path: "/v1/traces/" + traceID, Status: res.StatusCode, Message: e.Error.Message}
	}
	var ft FlowTrace
	if err := json.Unmarshal(data, &ft); err != nil {
		return nil, fmt.Errorf("decoding trace %s: %w", traceID, err)
	}
	return &ft, nil
}

// missing names the first expected hop the trace lacks, or "".
func (ft *FlowTrace) missing() string {
	has := func(kind trace.Kind, service, path string) bool {
		for _, ev := range ft.Events {
			if ev.Kind == kind && ev.Service == service && ev.Path == path && ev.Code == 0 {
				return true
			}
		}
		return false
	}
	for _, s := range flowSteps {
		switch {
		case !has(trace.KindServer, "bridge", "/v1/call/"+s.service+s.path):
			return "bridge handling of " + s.service + " " + s.path
		case !has(trace.KindClient, s.service, s.path):
			return "bridge attempt on " + s.service + " " + s.path
		case !has(trace.KindServer, s.service, s.path):
			return s.service + " handling of " + s.path
		}
	}
	return ""
}
