package ui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// sseMsg is one Server-Sent Events message.
type sseMsg struct {
	event, data string
	at          time.Time
}

// sseStream reads a text/event-stream response.
type sseStream struct {
	msgs      chan sseMsg
	comments  atomic.Int64
	ended     chan struct{}
	cancel    context.CancelFunc
	header    http.Header
	protoMajr int
}

// openSSE GETs url with client and reads its messages until the test ends.
func openSSE(t *testing.T, client *http.Client, url string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		cancel()
		t.Fatalf("GET %s: %s %s", url, res.Status, body)
	}
	s := &sseStream{msgs: make(chan sseMsg, 1024), ended: make(chan struct{}), cancel: cancel,
		header: res.Header, protoMajr: res.ProtoMajor}
	t.Cleanup(func() { cancel(); <-s.ended })
	go func() {
		defer close(s.ended)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var m sseMsg
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m.data != "" || m.event != "" {
					m.at = time.Now()
					s.msgs <- m
				}
				m = sseMsg{}
			case strings.HasPrefix(line, ":"):
				s.comments.Add(1)
			case strings.HasPrefix(line, "event: "):
				m.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if m.data != "" {
					m.data += "\n"
				}
				m.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// next returns the next message, or fails after timeout.
func (s *sseStream) next(t *testing.T, timeout time.Duration) sseMsg {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-s.ended:
		select {
		case m := <-s.msgs:
			return m
		default:
		}
		t.Fatal(errNoEvent)
	case <-time.After(timeout):
		t.Fatalf("no SSE message within %v", timeout)
	}
	return sseMsg{}
}

// waitEvent reads trace events until one satisfies ok.
func (s *sseStream) waitEvent(t *testing.T, timeout time.Duration, ok func(trace.Event) bool) (trace.Event, time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := s.next(t, time.Until(deadline))
		if m.event != "" {
			t.Fatalf("unexpected %q event: %s", m.event, m.data)
		}
		var ev trace.Event
		if err := json.Unmarshal([]byte(m.data), &ev); err != nil {
			t.Fatalf("data is not a trace event: %v: %s", err, m.data)
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("invalid trace event on the stream: %v: %s", err, m.data)
		}
		if ok(ev) {
			return ev, m.at
		}
	}
}

// TestLiveStreamDeliversWithinASecond: a call's trace event reaches a
// live SSE client within a second of the call returning.
func TestLiveStreamDeliversWithinASecond(t *testing.T) {
	m := startMesh(t)
	ts := m.server(t)
	s := openSSE(t, ts.Client(), ts.URL+"/v1/traces/live")
	if ct := s.header.Get("Content-Type"); ct != "text/event-stream" || s.protoMajr != 2 {
		t.Fatalf("live stream: Content-Type %q over HTTP/%d, want text/event-stream over HTTP/2", ct, s.protoMajr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// The stream follows from the moment it starts: call until it shows one
	// call, so that the measured call is surely made while it follows.
	made := map[trace.TraceID]bool{}
	natstest.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		id, err := m.license(ctx, application{Name: "Avery Johnson", LicenseType: "professional-engineer"})
		if err != nil {
			return err
		}
		made[id] = true
		for {
			select {
			case msg := <-s.msgs:
				var ev trace.Event
				if json.Unmarshal([]byte(msg.data), &ev) == nil && made[ev.TraceID] {
					return nil
				}
			case <-time.After(200 * time.Millisecond):
				return fmt.Errorf("none of %d flows streamed yet", len(made))
			}
		}
	})

	id, err := m.license(ctx, application{Name: "Avery Johnson", LicenseType: "professional-engineer"})
	if err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	ev, at := s.waitEvent(t, 5*time.Second, func(ev trace.Event) bool {
		return ev.TraceID == id && ev.Kind == trace.KindClient && ev.Service == "audit-log"
	})
	if got := at.Sub(returned); got > time.Second {
		t.Errorf("the last call's event arrived %v after the flow returned, want within 1s", got)
	} else {
		t.Logf("the last call's event arrived %v after the flow returned", got.Round(time.Microsecond))
	}
	if ev.Caller != "gateway" || ev.Path != "/record" || ev.Code != rpc.CodeOK {
		t.Errorf("event = %+v, want gateway's successful call of audit-log /record", ev)
	}
}

// TestLiveStreamReplaysSince: ?since= replays stored events first, and a
// bad since is refused before any stream starts.
func TestLiveStreamReplaysSince(t *testing.T) {
	m := startMesh(t)
	ts := m.server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id, err := m.license(ctx, application{Name: "Avery Johnson", LicenseType: "professional-engineer"})
	if err != nil {
		t.Fatal(err)
	}
	// 1 gateway span + 4 attempts + 4 handlings.
	const want = 9
	s := openSSE(t, ts.Client(), ts.URL+"/v1/traces/live?since=1m")
	spans := map[trace.SpanID]trace.Event{}
	for len(spans) < want {
		ev, _ := s.waitEvent(t, 5*time.Second, func(ev trace.Event) bool { return ev.TraceID == id })
		spans[ev.SpanID] = ev
	}
	for _, ev := range spans {
		if ev.Code != rpc.CodeOK {
			t.Errorf("replayed event %+v has code %d, want 0", ev, ev.Code)
		}
	}

	res, err := ts.Client().Get(ts.URL + "/v1/traces/live?since=-5m")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "since") {
		t.Errorf("since=-5m: %s %s, want 400 naming since", res.Status, body)
	}
}

// TestSSEStreamLifecycle drives SSE with follow functions that idle, fail
// or outlive the client, over a real HTTP/2 server.
func TestSSEStreamLifecycle(t *testing.T) {
	ev := trace.Event{Kind: trace.KindClient, Caller: "gateway", Service: "fee-calc", Path: "/calculate", Attempt: 1}
	ev.TraceID, _ = trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	ev.SpanID, _ = trace.ParseSpanID("00f067aa0ba902b7")
	ev.Start = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ev.Stop, ev.DurationUS = ev.Start.Add(time.Millisecond), 1000

	type result struct {
		err         error
		followEnded bool
	}
	results := make(chan result, 1)
	stop, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	mux := http.NewServeMux()
	serve := func(follow ui.FollowFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var ended atomic.Bool
			err := ui.SSE(w, r, func(ctx context.Context, fn func(trace.Event) error) error {
				defer ended.Store(true)
				return follow(ctx, fn)
			}, ui.WithHeartbeat(20*time.Millisecond), ui.WithStop(stop))
			results <- result{err: err, followEnded: ended.Load()}
		}
	}
	idle := func(ctx context.Context, fn func(trace.Event) error) error {
		if err := fn(ev); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
	mux.Handle("/idle", serve(idle))
	mux.Handle("/fails", serve(func(ctx context.Context, fn func(trace.Event) error) error {
		if err := fn(ev); err != nil {
			return err
		}
		return rpc.Errorf(rpc.CodeUnavailable, "stream gone")
	}))
	ts := httptest.NewUnstartedServer(mux)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()

	t.Run("idle stream gets heartbeats and ends when the client leaves", func(t *testing.T) {
		s := openSSE(t, ts.Client(), ts.URL+"/idle")
		got := s.next(t, 2*time.Second)
		if !strings.Contains(got.data, `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`) || got.event != "" {
			t.Fatalf("first message = %+v, want the event as data", got)
		}
		natstest.CheckFor(t, 2*time.Second, 5*time.Millisecond, func() error {
			if n := s.comments.Load(); n < 3 { // the opening comment and two heartbeats
				return fmt.Errorf("%d comment lines", n)
			}
			return nil
		})
		s.cancel()
		r := <-results
		if r.err != nil || !r.followEnded {
			t.Errorf("after the client left: SSE returned %v, follow ended %v; want nil, true", r.err, r.followEnded)
		}
	})
	t.Run("a failing follow ends the stream with an error event", func(t *testing.T) {
		s := openSSE(t, ts.Client(), ts.URL+"/fails")
		s.next(t, 2*time.Second)
		got := s.next(t, 2*time.Second)
		var body struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(got.data), &body); got.event != "error" || err != nil ||
			body.Error.Code != 503 || body.Error.Message != "stream gone" {
			t.Fatalf("last message = %+v, want event error with code 503", got)
		}
		<-s.ended
		if r := <-results; rpc.CodeOf(r.err) != rpc.CodeUnavailable {
			t.Errorf("SSE returned %v, want follow's 503", r.err)
		}
	})
	t.Run("the server stopping ends the stream", func(t *testing.T) {
		s := openSSE(t, ts.Client(), ts.URL+"/idle")
		s.next(t, 2*time.Second)
		stopServer()
		select {
		case <-s.ended:
		case <-time.After(2 * time.Second):
			t.Fatal("the stream is still open after the server's stop")
		}
		if r := <-results; r.err != nil || !r.followEnded {
			t.Errorf("after stop: SSE returned %v, follow ended %v; want nil, true", r.err, r.followEnded)
		}
	})
}
