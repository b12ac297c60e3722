package trace

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// Follow calls fn with every event stored in SVC_TRACE from the time from
// on, then with each new one as it arrives, until ctx ends (Follow then
// returns nil) or fn returns an error (which Follow returns). A zero from
// means now: only events stored after Follow starts. Events come in stream
// order: a batch's events together, hops of one trace possibly out of
// causal order (see CausalOrder). Follow rides out NATS restarts and
// reconnects: it resumes after the last message it handled, so no event is
// skipped or repeated. Only events their emitter may have made (MayEmit) are
// passed on; the others, and messages that are not valid batches, are
// skipped (and counted by WithScreen's Screen). A missing stream is
// CodeNotFound.
func Follow(ctx context.Context, js jetstream.JetStream, from time.Time, fn func(Event) error, opts ...ReadOption) error {
	o := readOptionsOf(opts)
	var next uint64 // stream sequence to resume from; 0 until known
	if from.IsZero() {
		s, err := js.Stream(ctx, subjects.TraceStream)
		if err != nil {
			return followErr(err)
		}
		next = s.CachedInfo().State.LastSeq + 1
	}
	backoff := followBackoff
	for {
		progressed, err := followOnce(ctx, js, from, &next, o.screen, fn)
		if ctx.Err() != nil {
			return nil
		}
		var fe fnError
		if errors.As(err, &fe) {
			return fe.err
		}
		if errors.Is(err, jetstream.ErrStreamNotFound) && next == 0 {
			return followErr(err)
		}
		if progressed {
			backoff = followBackoff
		}
		if !pause(ctx.Done(), backoff) {
			return nil
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// followBackoff is the first wait before Follow resumes after an error.
const followBackoff = 50 * time.Millisecond

// fnError carries the error of Follow's callback.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

func followErr(err error) error {
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return rpc.Errorf(rpc.CodeNotFound, "following %s: %w", subjects.TraceStream, err)
	}
	return rpc.Errorf(rpc.CodeUnavailable, "following %s: %w", subjects.TraceStream, err)
}

// followOnce follows with one ordered consumer, from stream sequence *next
// when known (else from the time from), until an error; it advances *next
// past each message handled.
func followOnce(ctx context.Context, js jetstream.JetStream, from time.Time, next *uint64, screen *Screen, fn func(Event) error) (progressed bool, err error) {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{subjects.TraceWildcard},
		DeliverPolicy:     jetstream.DeliverByStartTimePolicy,
		OptStartTime:      &from,
		InactiveThreshold: 30 * time.Second,
	}
	if *next > 0 {
		cfg.DeliverPolicy, cfg.OptStartTime, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, nil, *next
	}
	cons, err := js.OrderedConsumer(ctx, subjects.TraceStream, cfg)
	if err != nil {
		return false, err
	}
	it, err := cons.Messages()
	if err != nil {
		return false, err
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return progressed, err
		}
		md, err := msg.Metadata()
		if err != nil {
			continue
		}
		progressed, *next = true, md.Sequence.Stream+1
		for _, ev := range screen.admit(msg.Subject(), msg.Data(), nil) {
			if err := fn(ev); err != nil {
				return true, fnError{err}
			}
		}
	}
}

// hintMargin is how far before a trace id's embedded time Get starts, for
// clocks that disagree.
const hintMargin = 2 * time.Minute

// scanIdle bounds the wait for the next message of a scan, should the
// messages it expects vanish (retention) while it runs.
const scanIdle = 2 * time.Second

// Get returns the stored hops of trace id in causal order (CausalOrder). It
// reads only message headers (HeaderTraceIDs) to find the batches holding
// the trace, then fetches those. The cost is one headers-only pass over the
// messages stored since the trace began (as hinted by an id the mesh made or
// by From; otherwise the whole stream), so it is fast for recent traces and
// slow for old ones in a large stream. Only events their emitter may have
// made (MayEmit) are returned; the others are counted by WithScreen's
// Screen. A trace with no such event is ErrNotFound (CodeNotFound).
func Get(ctx context.Context, js jetstream.JetStream, id TraceID, opts ...GetOption) ([]Event, error) {
	o := readOptionsOf(opts)
	if id.IsZero() {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "trace id: %w", ErrZeroID)
	}
	stream, err := js.Stream(ctx, subjects.TraceStream)
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "reading %s: %w", subjects.TraceStream, err)
	}
	state := stream.CachedInfo().State
	from, fallback := o.from, false
	if from.IsZero() {
		hint := id.startHint()
		if !hint.Before(state.FirstTime.Add(-time.Hour)) && hint.Before(time.Now().Add(time.Hour)) {
			from, fallback = hint.Add(-hintMargin), true
		}
	}
	events, err := scan(ctx, js, stream, state, id, from, o.screen)
	if err == nil && len(events) == 0 && fallback {
		events, err = scan(ctx, js, stream, state, id, time.Time{}, o.screen)
	}
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, rpc.Errorf(rpc.CodeNotFound, "trace %s: %w", id, ErrNotFound)
	}
	return CausalOrder(events), nil
}

// scan reads the headers of the messages stored from from (zero: the first)
// up to the last one stored when Get began, and returns id's events.
func scan(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, state jetstream.StreamState, id TraceID, from time.Time, screen *Screen) ([]Event, error) {
	if state.Msgs == 0 || !from.IsZero() && from.After(state.LastTime) {
		return nil, nil
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{subjects.TraceWildcard},
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		HeadersOnly:       true,
		InactiveThreshold: 10 * time.Second,
	}
	if !from.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &from
	}
	cons, err := js.OrderedConsumer(ctx, subjects.TraceStream, cfg)
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "reading %s: %w", subjects.TraceStream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1000))
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "reading %s: %w", subjects.TraceStream, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	want := id.String()
	var seqs []uint64
	for {
		msg, err := it.Next(jetstream.NextMaxWait(scanIdle))
		if cerr := ctx.Err(); cerr != nil {
			return nil, rpc.Errorf(rpc.CodeOf(cerr), "reading %s: %w", subjects.TraceStream, cerr)
		}
		if errors.Is(err, nats.ErrTimeout) {
			break // nothing more to read
		}
		if err != nil {
			return nil, rpc.Errorf(rpc.CodeUnavailable, "reading %s: %w", subjects.TraceStream, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			continue
		}
		// A message without the header (from another publisher) may hold
		// anything: read it.
		if ids := msg.Headers().Get(HeaderTraceIDs); ids == "" || strings.Contains(ids, want) {
			seqs = append(seqs, md.Sequence.Stream)
		}
		if md.Sequence.Stream >= state.LastSeq || md.NumPending == 0 {
			break
		}
	}
	var events []Event
	for _, seq := range seqs {
		raw, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // removed by retention meanwhile
		}
		if err != nil {
			return nil, rpc.Errorf(rpc.CodeUnavailable, "reading %s message %d: %w", subjects.TraceStream, seq, err)
		}
		events = append(events, screen.admit(raw.Subject, raw.Data, func(ev *Event) bool { return ev.TraceID == id })...)
	}
	return events, nil
}
