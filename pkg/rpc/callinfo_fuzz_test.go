package rpc_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// FuzzCallInfoHeaders sends a real booth requests whose Svc-Attempt,
// Svc-Request-Id, Svc-Caller and Svc-Timeout-Ms hold anything a NATS header
// can carry, and checks that the booth answers every one and hands its
// handler a sane CallInfo: an attempt of at least 1 (the number sent, when
// it is one), the request id and caller claim as sent.
func FuzzCallInfoHeaders(f *testing.F) {
	for _, s := range [][4]string{
		{"1", "5b0f3c52-8f0b-4c3e-9a55-2b8f6e1d0a11", "gateway", "300"},
		{"3", "", "", ""},
		{"0", "x", "bridge", "0"},
		{"-1", "not-a-uuid", "$SYS", "-5"},
		{"abc", "", "", "1e3"},
		{"99999999999999999999", "", "", "99999999999999999999"},
		{" 2", " id ", " gateway ", " 5"},
		{"2\x00", "\x00", "\xff\xfe", "\t"},
		{"", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	s := natstest.Start(f)
	b := startBooth(f, s, "fuzz")
	seen := make(chan rpc.CallInfo, 1)
	handleRaw(f, b, "/echo", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		ci, found := rpc.CallInfoFromContext(ctx)
		if !found {
			return nil, rpc.Errorf(rpc.CodeInternal, "no CallInfo")
		}
		seen <- *ci
		return ok()
	})
	nc := natstest.Connect(f, s)
	f.Fuzz(func(t *testing.T, attempt, id, caller, timeout string) {
		msg := nats.NewMsg("svc.fuzz.echo")
		for _, h := range [][2]string{{rpc.HeaderAttempt, attempt}, {rpc.HeaderRequestID, id}, {rpc.HeaderCaller, caller}, {rpc.HeaderTimeout, timeout}} {
			if strings.ContainsAny(h[1], "\r\n") {
				return // a header value cannot hold a line break
			}
			if h[1] != "" {
				msg.Header.Set(h[0], h[1])
			}
		}
		msg.Data = []byte(`{}`)
		res, err := nc.RequestMsg(msg, 5*time.Second)
		if err != nil {
			t.Fatalf("no answer to attempt %q id %q caller %q timeout %q: %v", attempt, id, caller, timeout, err)
		}
		if e := res.Header.Get(rpc.HeaderError); e != "" {
			t.Fatalf("answered with an error: %s", e)
		}
		var ci rpc.CallInfo
		select {
		case ci = <-seen:
		case <-time.After(5 * time.Second):
			t.Fatal("the handler did not run")
		}
		if ci.Service != "fuzz" || ci.Path != "/echo" {
			t.Errorf("CallInfo names %s %s, want fuzz /echo", ci.Service, ci.Path)
		}
		if ci.Attempt < 1 {
			t.Errorf("attempt %q read as %d, want at least 1", attempt, ci.Attempt)
		}
		if n, err := strconv.Atoi(attempt); err == nil && n >= 1 && strconv.Itoa(n) == attempt && ci.Attempt != n {
			t.Errorf("attempt %q read as %d, want %d", attempt, ci.Attempt, n)
		}
		if got, want := ci.RequestID, strings.TrimSpace(id); strings.TrimSpace(got) != want {
			t.Errorf("request id %q read as %q", id, got)
		}
		if got, want := ci.Caller, strings.TrimSpace(caller); strings.TrimSpace(got) != want {
			t.Errorf("caller %q read as %q", caller, got)
		}
	})
}
