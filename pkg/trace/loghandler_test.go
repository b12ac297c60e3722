package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// A line logged inside a booth's handler carries its trace and request id;
// one logged outside any call carries neither.
func TestLogLinesCarryTheCallsIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(trace.LogHandler(slog.NewJSONHandler(&buf, nil)))
	s := natstest.Start(t)
	b, err := rpc.NewBooth(natstest.Connect(t, s), rpc.BoothConfig{Name: "fee-calc"},
		rpc.WithBoothMiddleware(trace.ServerMiddleware(nil, "fee-calc-1")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	if err := b.HandleRaw("/calculate", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		log.InfoContext(ctx, "inside")
		return &rpc.Message{Data: []byte(`{}`)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	c, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithAttemptTimeout(2*time.Second),
		rpc.WithAttemptMiddleware(trace.ClientMiddleware(nil, "gateway")))
	if err != nil {
		t.Fatal(err)
	}
	id := "882ce588-95ea-4dea-a2d8-fe4a995c0619"
	tid, _ := trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.ParseSpanID("00f067aa0ba902b7")
	ctx := trace.ContextWithSpan(rpc.WithRequestID(t.Context(), id), trace.SpanContext{TraceID: tid, SpanID: sid, Flags: trace.FlagSampled})
	if _, err := c.CallRaw(ctx, "fee-calc", "/calculate", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	log.Info("outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var in, out map[string]any
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &in) != nil || json.Unmarshal([]byte(lines[1]), &out) != nil {
		t.Fatalf("logged %q", buf.String())
	}
	if in["trace_id"] != tid.String() || in["request_id"] != id {
		t.Errorf("the handler's line %v lacks the call's trace or request id", in)
	}
	if _, ok := out["trace_id"]; ok {
		t.Errorf("a line outside any call %v has a trace id", out)
	}
}
