package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// FollowFunc calls fn with each trace event until ctx ends (then it
// returns nil) or fn fails (then it returns fn's error); trace.Follow on a
// JetStream context, with the from time fixed, is one.
type FollowFunc func(ctx context.Context, fn func(trace.Event) error) error

// DefaultHeartbeat is how often SSE writes a comment line to keep an idle
// stream open through proxies and to notice a client that went away.
const DefaultHeartbeat = 15 * time.Second

// SSEOption configures SSE.
type SSEOption func(*sseOptions)

type sseOptions struct {
	heartbeat time.Duration
	stop      context.Context
}

// WithHeartbeat sets how often an idle stream gets a heartbeat (default
// 15 s); a value <= 0 keeps the default.
func WithHeartbeat(d time.Duration) SSEOption {
	return func(o *sseOptions) {
		if d > 0 {
			o.heartbeat = d
		}
	}
}

// WithStop ends the stream when ctx ends, as well as when the client goes
// away: pass the server's lifetime, since http.Server.Shutdown waits for
// open streams instead of ending them.
func WithStop(ctx context.Context) SSEOption {
	return func(o *sseOptions) {
		if ctx != nil {
			o.stop = ctx
		}
	}
}

// SSE streams the events follow yields to the client as Server-Sent Events,
// one "data:" message of event JSON each, flushed at once, with heartbeat
// comments while idle. It clears the connection's write deadline (a stream
// outlives a server's WriteTimeout) and returns when the client goes away
// (nil) or follow fails: the stream then ends with an "error" event whose
// data is {"error":{"code":...,"message":...}} and SSE returns follow's
// error for the caller to log. follow has returned when SSE does: it must
// return once its ctx ends. It answers 500 without streaming when w
// cannot flush.
func SSE(w http.ResponseWriter, r *http.Request, follow FollowFunc, opts ...SSEOption) error {
	o := sseOptions{heartbeat: DefaultHeartbeat}
	for _, opt := range opts {
		opt(&o)
	}
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The first flush sends the headers, so the client knows the stream
	// is open before any event.
	if _, err := fmt.Fprint(w, ": stream of svc.trace events\nretry: 2000\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		if errors.Is(err, http.ErrNotSupported) {
			return fmt.Errorf("ui: SSE needs a ResponseWriter that flushes: %w", err)
		}
		return nil
	}

	ctx, cancel := context.WithCancel(r.Context())
	if o.stop != nil {
		defer context.AfterFunc(o.stop, cancel)()
	}
	events := make(chan trace.Event, 64)
	done := make(chan error, 1)
	// follow ends before SSE returns: no goroutine outlives the request.
	followed := false
	defer func() {
		cancel()
		if !followed {
			<-done
		}
	}()
	go func() {
		done <- follow(ctx, func(ev trace.Event) error {
			select {
			case events <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()

	beat := time.NewTicker(o.heartbeat)
	defer beat.Stop()
	buf := make([]byte, 0, 1024)
	for {
		select {
		case ev := <-events:
			buf = append(buf[:0], "data: "...)
			data, err := json.Marshal(&ev)
			if err != nil {
				continue // an Event always encodes
			}
			buf = append(append(buf, data...), "\n\n"...)
			// Send what else is already waiting in the same write.
			for more := true; more && len(buf) < 64<<10; {
				select {
				case ev := <-events:
					if data, err := json.Marshal(&ev); err == nil {
						buf = append(append(append(buf, "data: "...), data...), "\n\n"...)
					}
				default:
					more = false
				}
			}
			if !send(w, rc, buf) {
				return nil
			}
			beat.Reset(o.heartbeat)
		case <-beat.C:
			if !send(w, rc, []byte(": heartbeat\n\n")) {
				return nil
			}
		case err := <-done:
			followed = true
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = rpc.Errorf(rpc.CodeUnavailable, "trace stream ended")
			}
			body, _ := json.Marshal(errorBody{Error: errorDetail{Code: int(rpc.CodeOf(err)), Message: rpc.MessageOf(err)}})
			send(w, rc, append(append([]byte("event: error\ndata: "), body...), "\n\n"...))
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

// send writes and flushes b; false means the client is gone.
func send(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}
