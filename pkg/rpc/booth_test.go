package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// A panicking handler is answered 500 and the booth keeps serving.
func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	var logs lockedBuffer
	b := startBooth(t, s, "fee-calc", rpc.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	err := rpc.Handle(b, "/calculate", func(_ context.Context, req *FeeRequest) (*FeeReply, error) {
		if req.LicenseType == "boom" {
			var m map[string]int
			m["x"]++ // nil map write: panics
		}
		return &FeeReply{Amount: 125, Currency: "USD"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, s)

	err = client.Call(context.Background(), "fee-calc", "/calculate", FeeRequest{LicenseType: "boom"}, nil)
	if got := rpc.CodeOf(err); got != rpc.CodeInternal {
		t.Fatalf("code = %v, want %v (err %v)", got, rpc.CodeInternal, err)
	}
	if got, want := rpc.MessageOf(err), "internal error in fee-calc /calculate"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), "nil map") {
		t.Errorf("panic not logged with its value: %s", logs.String())
	}
	var fee FeeReply
	if err := client.Call(context.Background(), "fee-calc", "/calculate", FeeRequest{LicenseType: "professional-engineer"}, &fee); err != nil {
		t.Fatalf("call after the panic: %v", err)
	}
	if fee.Amount != 125 {
		t.Errorf("amount = %d, want 125", fee.Amount)
	}
}

// A typed handler never sees a body that is not one JSON value of its type.
func TestHandleRefusesBadBodies(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	var runs atomic.Int32
	err := rpc.Handle(b, "/calculate", func(context.Context, *FeeRequest) (*FeeReply, error) {
		runs.Add(1)
		return &FeeReply{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, s)
	tests := []struct {
		name, body, wantIn string
	}{
		{"empty", ``, "empty body"},
		{"blank", " \n\t", "empty body"},
		{"truncated", `{"license_type":`, "truncated"},
		{"malformed", `{"license_type" "x"}`, "malformed JSON at byte"},
		{"not JSON", `hello`, "malformed JSON"},
		{"trailing value", `{} {}`, "data after the JSON value"},
		{"trailing garbage", `{"license_type":"x"}x`, "data after the JSON value"},
		{"wrong field type", `{"license_type":5}`, `field "license_type": expected string, got JSON number`},
		{"wrong top-level type", `[1,2]`, "expected JSON for rpc_test.FeeRequest, got JSON array"},
		{"nested wrong type", `{"license_type":{"a":1}}`, `field "license_type": expected string, got JSON object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.CallRaw(context.Background(), "fee-calc", "/calculate", []byte(tc.body))
			if got := rpc.CodeOf(err); got != rpc.CodeBadRequest {
				t.Fatalf("code = %v, want %v (err %v)", got, rpc.CodeBadRequest, err)
			}
			msg := rpc.MessageOf(err)
			if !strings.HasPrefix(msg, "fee-calc /calculate: request body: ") || !strings.Contains(msg, tc.wantIn) {
				t.Errorf("message = %q, want it to name the problem (%q)", msg, tc.wantIn)
			}
		})
	}
	if got := runs.Load(); got != 0 {
		t.Errorf("handler ran %d times, want 0", got)
	}
	// Unknown fields are ignored, and a valid body is served.
	if _, err := client.CallRaw(context.Background(), "fee-calc", "/calculate", []byte(`{"license_type":"pe","extra":1}`)); err != nil {
		t.Fatal(err)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("handler ran %d times after a valid body, want 1", got)
	}
}

// A booth handles up to its concurrency at once and no more.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	const limit = 8
	b := startBooth(t, s, "license-printer", rpc.WithConcurrency(limit))
	var active, most atomic.Int32
	release := make(chan struct{})
	handleRaw(t, b, "/generate", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		n := active.Add(1)
		defer active.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		recv(t, release)
		return ok()
	})
	client := newClient(t, s, rpc.WithAttemptTimeout(10*time.Second))
	const calls = limit + 4
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := client.CallRaw(context.Background(), "license-printer", "/generate", []byte(`{}`))
			errs <- err
		}()
	}
	natstest.CheckFor(t, 5*time.Second, 2*time.Millisecond, func() error {
		if n := active.Load(); n != limit {
			return fmt.Errorf("%d handlers running, want %d", n, limit)
		}
		return nil
	})
	close(release)
	for range calls {
		if err := recv(t, errs); err != nil {
			t.Errorf("call: %v", err)
		}
	}
	t.Logf("concurrency: %d calls, at most %d handlers at once (limit %d)", calls, most.Load(), limit)
	if got := most.Load(); got != limit {
		t.Errorf("at most %d handlers ran at once, want %d", got, limit)
	}
}

// A booth is a NATS micro service: discovery lists its endpoints.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "license-printer")
	handleRaw(t, b, "/v2/generate", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() })
	nc := natstest.Connect(t, s)
	msg, err := nc.Request("$SRV.INFO.license-printer", nil, 2*time.Second)
	if err != nil {
		t.Fatalf("$SRV.INFO: %v", err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	if info.Name != "license-printer" || info.Version != "1.0.0" || len(info.Endpoints) != 1 {
		t.Fatalf("info = %+v", info)
	}
	ep := info.Endpoints[0]
	if ep.Subject != "svc.license-printer.v2.generate" || ep.QueueGroup != "license-printer" || ep.Metadata["path"] != "/v2/generate" {
		t.Errorf("endpoint = %+v", ep)
	}
}

func TestHandleRawRefusals(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	handleRaw(t, b, "/calculate", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() })
	tests := []struct {
		name, path string
		h          rpc.Endpoint
		wantIn     string
	}{
		{"served twice", "calculate", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() }, "already served"},
		{"wildcard", "/rates/*", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() }, "wildcard"},
		{"nil handler", "/other", nil, "nil handler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.HandleRaw(tc.path, tc.h)
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("HandleRaw(%q) = %v, want an error about %q", tc.path, err, tc.wantIn)
			}
		})
	}
	if err := b.Stop(within(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	err := b.HandleRaw("/late", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() })
	if !errors.Is(err, rpc.ErrBoothStopped) {
		t.Errorf("HandleRaw after Stop = %v, want ErrBoothStopped", err)
	}
}

// Handler errors that would break the reply still reach the caller coded.
func TestRepliesNATSRefuses(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "license-printer")
	maxPayload := natstest.Connect(t, s).MaxPayload()
	var runs sync.Map
	count := func(path string) int32 {
		n, _ := runs.LoadOrStore(path, new(atomic.Int32))
		return n.(*atomic.Int32).Add(1)
	}
	tests := []struct {
		path     string
		h        rpc.Endpoint
		wantCode rpc.Code
		wantIn   string
	}{
		{"/huge", func(context.Context, *rpc.Message) (*rpc.Message, error) {
			count("/huge")
			return &rpc.Message{Data: make([]byte, maxPayload+1)}, nil
		}, rpc.CodeInternal, "could not be sent"},
		{"/empty-message", func(context.Context, *rpc.Message) (*rpc.Message, error) {
			count("/empty-message")
			return nil, rpc.NewError(rpc.CodeConflict, nil)
		}, rpc.CodeConflict, "error 409 in license-printer /empty-message"},
		{"/multi-line", func(context.Context, *rpc.Message) (*rpc.Message, error) {
			count("/multi-line")
			return nil, rpc.Errorf(rpc.CodeNotFound, "no license\r\nX-Injected: 1")
		}, rpc.CodeNotFound, "no license"},
	}
	for _, tc := range tests {
		handleRaw(t, b, tc.path, tc.h)
	}
	client := newClient(t, s, rpc.WithoutBreaker(), rpc.WithAttemptTimeout(time.Second))
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, err := client.Invoke(context.Background(), "license-printer", tc.path, nil, []byte(`{}`))
			if got := rpc.CodeOf(err); got != tc.wantCode {
				t.Fatalf("code = %v, want %v (err %v)", got, tc.wantCode, err)
			}
			if !strings.Contains(rpc.MessageOf(err), tc.wantIn) {
				t.Errorf("message = %q, want it to contain %q", rpc.MessageOf(err), tc.wantIn)
			}
			if res != nil && res.Header.Get("X-Injected") != "" {
				t.Error("an error message injected a reply header")
			}
			if n, _ := runs.Load(tc.path); n.(*atomic.Int32).Load() != 1 {
				t.Errorf("handler ran %d times, want 1", n.(*atomic.Int32).Load())
			}
		})
	}
}

// A path is routed to the booth as soon as HandleRaw returns: the first
// attempt of a call made right after it finds the booth.
func TestHandleRawRoutableOnReturn(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	client := newClient(t, s, rpc.WithRetries(0, 0), rpc.WithoutBreaker())
	for i := range 20 {
		path := fmt.Sprintf("/p%d", i)
		handleRaw(t, b, path, func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() })
		if _, err := client.CallRaw(context.Background(), "fee-calc", path, []byte(`{}`)); err != nil {
			t.Fatalf("first call to %s right after HandleRaw: %v", path, err)
		}
	}
}

// An Inline endpoint answers like any other, with the call's info in its
// ctx, and discovery says it runs inline.
func TestInlineEndpoint(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startBooth(t, s, "fee-calc")
	handleOpts(t, b, "/calculate", func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
		ci, ok := rpc.CallInfoFromContext(ctx)
		if !ok {
			return nil, rpc.Errorf(rpc.CodeInternal, "no CallInfo")
		}
		return &rpc.Message{Data: fmt.Appendf(nil, `{"attempt":%d,"request_id":%q,"body":%s}`, ci.Attempt, ci.RequestID, req.Data)}, nil
	}, rpc.Inline())
	client := newClient(t, s)
	ctx := rpc.WithRequestID(context.Background(), "req-1")
	got, err := client.CallRaw(ctx, "fee-calc", "/calculate", []byte(`{"license_type":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"attempt":1,"request_id":"req-1","body":{"license_type":"x"}}`; string(got) != want {
		t.Errorf("reply = %s, want %s", got, want)
	}
	eps := b.Info().Endpoints
	if len(eps) != 1 || eps[0].Metadata["inline"] != "true" {
		t.Errorf("discovery endpoints = %+v, want one with metadata inline=true", eps)
	}
}
