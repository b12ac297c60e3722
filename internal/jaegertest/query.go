package jaegertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Trace is one trace as Jaeger's query API returns it
// (GET /api/traces/{id}).
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
}

// Span is one span of a Trace.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	// StartTime is in microseconds since the epoch, Duration in
	// microseconds.
	StartTime int64  `json:"startTime"`
	Duration  int64  `json:"duration"`
	Tags      []Tag  `json:"tags"`
	ProcessID string `json:"processID"`
}

// Reference links a span to another: CHILD_OF its parent.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Process is the resource that made spans: its service name and the
// resource's other attributes as tags.
type Process struct {
	ServiceName string `json:"serviceName"`
	Tags        []Tag  `json:"tags"`
}

// Tag is one attribute.
type Tag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Tag returns the value of the tag key as text, or "".
func (s *Span) Tag(key string) string { return tagOf(s.Tags, key) }

// Parent returns the span id of the span's CHILD_OF reference, or "".
func (s *Span) Parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Service returns the service name of the span's process.
func (t *Trace) Service(s *Span) string { return t.Processes[s.ProcessID].ServiceName }

// ProcessTag returns the value of the tag key of the span's process, or "".
func (t *Trace) ProcessTag(s *Span, key string) string {
	return tagOf(t.Processes[s.ProcessID].Tags, key)
}

func tagOf(tags []Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// Trace returns the trace id from the query API; a trace Jaeger does not
// hold (yet) is an error naming its status.
func (j *Jaeger) Trace(ctx context.Context, id string) (*Trace, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.QueryURL+"/api/traces/"+id, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/traces/%s: %s: %.300s", id, res.Status, body)
	}
	var out struct {
		Data []Trace `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /api/traces/%s: %w", id, err)
	}
	if len(out.Data) != 1 {
		return nil, fmt.Errorf("GET /api/traces/%s: %d traces, want 1", id, len(out.Data))
	}
	return &out.Data[0], nil
}
