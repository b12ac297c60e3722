package rpc_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

func TestBadClientOptions(t *testing.T) {
	t.Parallel()
	nc := natstest.Connect(t, natstest.Start(t))
	tests := []struct {
		name   string
		nc     *nats.Conn
		opt    rpc.Option
		wantIn string
	}{
		{"nil connection", nil, nil, "nil NATS connection"},
		{"nil option", nc, nil, "option 0 is nil"},
		{"zero attempt timeout", nc, rpc.WithAttemptTimeout(0), "attempt timeout"},
		{"negative attempt timeout", nc, rpc.WithAttemptTimeout(-time.Second), "attempt timeout"},
		{"negative retries", nc, rpc.WithRetries(-1, time.Millisecond), "retries"},
		{"too many retries", nc, rpc.WithRetries(11, time.Millisecond), "retries"},
		{"negative backoff", nc, rpc.WithRetries(2, -time.Millisecond), "backoff"},
		{"breaker without failures", nc, rpc.WithBreaker(rpc.BreakerSettings{OpenFor: time.Second, HalfOpenCalls: 1}), "breaker"},
		{"breaker without window", nc, rpc.WithBreaker(rpc.BreakerSettings{Failures: 3, HalfOpenCalls: 1}), "breaker"},
		{"breaker without probes", nc, rpc.WithBreaker(rpc.BreakerSettings{Failures: 3, OpenFor: time.Second}), "breaker"},
		{"negative budget ratio", nc, rpc.WithRetryBudget(-0.1, 10), "retry budget ratio"},
		{"budget ratio over 1", nc, rpc.WithRetryBudget(1.5, 10), "retry budget ratio"},
		{"NaN budget ratio", nc, rpc.WithRetryBudget(math.NaN(), 10), "retry budget ratio"},
		{"negative budget floor", nc, rpc.WithRetryBudget(0.2, -1), "retry budget floor"},
		{"infinite budget floor", nc, rpc.WithRetryBudget(0.2, math.Inf(1)), "retry budget floor"},
		{"budget allowing nothing", nc, rpc.WithRetryBudget(0, 0), "WithRetries(0, 0)"},
		{"caller with space", nc, rpc.WithCaller("gate way"), "caller identity"},
		{"caller with newline", nc, rpc.WithCaller("gateway\r\nX: 1"), "caller identity"},
		{"nil attempt middleware", nc, rpc.WithAttemptMiddleware(nil), "attempt middleware 0 is nil"},
		{"nil call middleware", nc, rpc.WithCallMiddleware(nil), "call middleware 0 is nil"},
		{"malformed known service", nc, rpc.WithKnownServices("fee-calc", "Fee Calc"), "known service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []rpc.Option
			if tc.nc != nil {
				opts = append(opts, tc.opt)
			}
			c, err := rpc.NewClient(tc.nc, opts...)
			if !errors.Is(err, rpc.ErrBadOption) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("NewClient = %v, %v; want ErrBadOption naming %q", c, err, tc.wantIn)
			}
		})
	}
}

func TestBadBoothOptions(t *testing.T) {
	t.Parallel()
	nc := natstest.Connect(t, natstest.Start(t))
	tests := []struct {
		name    string
		nc      *nats.Conn
		service string
		opt     rpc.BoothOption
		want    error
		wantIn  string
	}{
		{"nil connection", nil, "fee-calc", nil, rpc.ErrBadOption, "nil NATS connection"},
		{"empty name", nc, "", nil, subjects.ErrServiceEmpty, "service name is empty"},
		{"reserved name", nc, "trace", nil, subjects.ErrServiceReserved, "reserved"},
		{"wildcard name", nc, "fee*", nil, subjects.ErrWildcard, "wildcard"},
		{"nil option", nc, "fee-calc", nil, rpc.ErrBadOption, "booth option 0 is nil"},
		{"zero concurrency", nc, "fee-calc", rpc.WithConcurrency(0), rpc.ErrBadOption, "concurrency"},
		{"zero default timeout", nc, "fee-calc", rpc.WithDefaultTimeout(0), rpc.ErrBadOption, "default timeout"},
		{"nil logger", nc, "fee-calc", rpc.WithLogger(nil), rpc.ErrBadOption, "logger"},
		{"nil middleware", nc, "fee-calc", rpc.WithBoothMiddleware(nil), rpc.ErrBadOption, "booth middleware 0 is nil"},
		{"nil dedup store", nc, "fee-calc", rpc.WithDedupStore(nil), rpc.ErrBadOption, "nil dedup store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []rpc.BoothOption
			if tc.name == "nil option" || tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			b, err := rpc.NewBooth(tc.nc, rpc.BoothConfig{Name: tc.service}, opts...)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("NewBooth = %v, %v; want errors.Is %v naming %q", b, err, tc.want, tc.wantIn)
			}
		})
	}
	if n := nc.NumSubscriptions(); n != 0 {
		t.Errorf("refused booths left %d subscriptions", n)
	}
}

// Bad service or path names are refused before anything is published.
func TestCallRefusesBadNames(t *testing.T) {
	t.Parallel()
	nc := natstest.Connect(t, natstest.Start(t))
	client, err := rpc.NewClient(nc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service, path string
		want          error
	}{
		{"fee-calc", "/rates/>", subjects.ErrWildcard},
		{"trace", "/x", subjects.ErrServiceReserved},
		{"fee.calc", "/x", subjects.ErrDot},
		{"fee-calc", "/a//b", subjects.ErrSegmentEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.service+tc.path, func(t *testing.T) {
			_, err := client.CallRaw(t.Context(), tc.service, tc.path, []byte(`{}`))
			if !errors.Is(err, tc.want) || rpc.CodeOf(err) != rpc.CodeBadRequest {
				t.Errorf("err = %v, want a 400 matching %v", err, tc.want)
			}
		})
	}
	if out := nc.Stats().OutMsgs; out != 0 {
		t.Errorf("%d messages published, want none", out)
	}
}
