package tracecli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// errEnough stops Follow once Tail has printed what it was asked for.
var errEnough = errors.New("enough events")

// Tail writes a Line for each event stored from the time from on (zero:
// only events stored from now on) as they arrive, until ctx ends (nil) or,
// when count > 0, until count events are written. It rides out NATS
// restarts as trace.Follow does, and prints only the events it passes on
// (opts: trace.WithScreen to count the others).
func Tail(ctx context.Context, js jetstream.JetStream, from time.Time, count int, w io.Writer, opts ...trace.ReadOption) error {
	n := 0
	err := trace.Follow(ctx, js, from, func(ev trace.Event) error {
		if _, err := fmt.Fprintln(w, Line(ev)); err != nil {
			return err
		}
		n++
		if count > 0 && n >= count {
			return errEnough
		}
		return nil
	}, opts...)
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}
