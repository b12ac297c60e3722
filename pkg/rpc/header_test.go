package rpc_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// seen is what a handler observed of the call it served.
type seen struct {
	info        rpc.CallInfo
	requestID   string
	deadline    time.Time
	hasDeadline bool
	remaining   time.Duration
}

func TestHeadersReachHandler(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	got := make(chan seen, 4)
	handleRaw(t, b, "/calculate", func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
		ci, found := rpc.CallInfoFromContext(ctx)
		if !found {
			t.Error("handler ctx has no CallInfo")
			return ok()
		}
		dl, has := ctx.Deadline()
		got <- seen{info: *ci, requestID: rpc.RequestID(ctx), deadline: dl, hasDeadline: has, remaining: time.Until(dl)}
		return &rpc.Message{Header: nats.Header{"X-Echo": []string{req.Header.Get(rpc.HeaderTraceparent)}}, Data: []byte(`{}`)}, nil
	})
	client := newClient(t, s, rpc.WithCaller("gateway"))

	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const tracestate = "hms=1"
	tests := []struct {
		name   string
		ctx    context.Context
		wantID func(string) error
	}{
		{"fresh UUID", context.Background(), func(id string) error {
			u, err := uuid.Parse(id)
			if err == nil && u.Version() != 4 {
				t.Errorf("request id %q is a UUID v%d, want v4", id, u.Version())
			}
			return err
		}},
		{"caller's idempotency key", rpc.WithRequestID(context.Background(), "7d1f1c5e-5b3c-4f7e-9a39-0f8f9a8b1c2d"), func(id string) error {
			if id != "7d1f1c5e-5b3c-4f7e-9a39-0f8f9a8b1c2d" {
				t.Errorf("request id = %q, want the caller's", id)
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := nats.Header{}
			hdr.Set(rpc.HeaderTraceparent, traceparent)
			hdr.Set(rpc.HeaderTracestate, tracestate)
			start := time.Now()
			res, err := client.Invoke(tc.ctx, "fee-calc", "/calculate", hdr, []byte(`{}`))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			h := recv(t, got)
			if err := tc.wantID(h.info.RequestID); err != nil {
				t.Errorf("request id %q: %v", h.info.RequestID, err)
			}
			if h.requestID != h.info.RequestID || h.info.Header.Get(rpc.HeaderRequestID) != h.info.RequestID {
				t.Errorf("RequestID(ctx) = %q, header %q, CallInfo %q: want all equal", h.requestID, h.info.Header.Get(rpc.HeaderRequestID), h.info.RequestID)
			}
			if got, want := h.info.Caller, "gateway"; got != want {
				t.Errorf("Caller = %q, want %q", got, want)
			}
			if got, want := h.info.Service+" "+h.info.Path, "fee-calc /calculate"; got != want {
				t.Errorf("Service Path = %q, want %q", got, want)
			}
			if h.info.Attempt != 1 {
				t.Errorf("Attempt = %d, want 1", h.info.Attempt)
			}
			if got := h.info.Header.Get(rpc.HeaderTraceparent); got != traceparent {
				t.Errorf("traceparent = %q, want %q", got, traceparent)
			}
			if got := h.info.Header.Get(rpc.HeaderTracestate); got != tracestate {
				t.Errorf("tracestate = %q, want %q", got, tracestate)
			}
			ms, err := strconv.Atoi(h.info.Header.Get(rpc.HeaderTimeout))
			if err != nil || ms < 1 || ms > int(rpc.DefaultAttemptTimeout/time.Millisecond) {
				t.Errorf("%s = %q, want 1..%d", rpc.HeaderTimeout, h.info.Header.Get(rpc.HeaderTimeout), rpc.DefaultAttemptTimeout/time.Millisecond)
			}
			if !h.hasDeadline {
				t.Fatal("handler ctx has no deadline")
			}
			if h.remaining <= 0 || h.remaining > rpc.DefaultAttemptTimeout {
				t.Errorf("handler's remaining budget = %v, want within (0, %v]", h.remaining, rpc.DefaultAttemptTimeout)
			}
			if limit := start.Add(rpc.DefaultAttemptTimeout + 20*time.Millisecond); h.deadline.After(limit) {
				t.Errorf("handler deadline %v after the attempt's end %v", h.deadline.Sub(start), limit.Sub(start))
			}
			if got := res.Header.Get("X-Echo"); got != traceparent {
				t.Errorf("reply header X-Echo = %q, want %q", got, traceparent)
			}
			if got := hdr.Get(rpc.HeaderRequestID); got != "" {
				t.Errorf("Invoke wrote %s %q into the caller's header", rpc.HeaderRequestID, got)
			}
		})
	}
}

// Two logical calls never share a request id, even when the caller reuses
// its header.
func TestRequestIDFreshPerCall(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "payment")
	ids := make(chan string, 2)
	handleRaw(t, b, "/charge", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		ids <- rpc.RequestID(ctx)
		return ok()
	})
	client := newClient(t, s)
	hdr := nats.Header{rpc.HeaderTraceparent: []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
	for range 2 {
		if _, err := client.Invoke(context.Background(), "payment", "/charge", hdr, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if first, second := recv(t, ids), recv(t, ids); first == second {
		t.Errorf("two calls with one reused header shared request id %q", first)
	}
}
