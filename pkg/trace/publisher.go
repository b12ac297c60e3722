package trace

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// HeaderTraceIDs lists, comma-separated, the distinct trace ids of the
// events in a svc.trace message, so a reader can skip messages without
// reading their bodies.
const HeaderTraceIDs = "Svc-Trace-Ids"

// Publisher sends the trace events of one identity to JetStream, on
// svc.trace.<service>, without ever slowing the call path: Emit only
// enqueues; a background goroutine batches events and publishes them
// asynchronously, waiting for acknowledgements off the call path.
//
// Memory is bounded: at most Capacity events are held (the buffer, the batch
// being filled and the batches awaiting acknowledgement). When the buffer is
// full Emit drops the event and counts it. During a NATS disconnect batches
// wait for the reconnect and the buffer keeps filling; a batch that fails
// for another reason is retried (deduplicated by JetStream through
// Nats-Msg-Id) and, after the last try, its events are dropped and counted.
type Publisher struct {
	js      jetstream.JetStream
	conn    *connWatch
	subject string
	msgID   string // prefix of each batch's Nats-Msg-Id
	opts    publisherOptions

	events  chan Event
	slots   chan struct{} // one per batch awaiting its acknowledgement
	closing chan struct{} // closed by Close: flush, then stop
	abort   chan struct{} // closed when Close gives up: drop what is left
	done    chan struct{} // closed when the background goroutine has ended
	pool    sync.Pool     // *outBatch
	wg      sync.WaitGroup
	seq     uint64 // batches made; background goroutine only

	closed         atomic.Bool
	closeOnce      sync.Once
	held           atomic.Int64 // events taken from the buffer, not yet settled
	published      atomic.Uint64
	droppedFull    atomic.Uint64
	droppedFailed  atomic.Uint64
	droppedInvalid atomic.Uint64
	lastErr        atomic.Pointer[string]
}

// outBatch is one message's worth of events.
type outBatch struct {
	events []Event
	data   []byte
	cost   int // upper bound of the encoded size
	seq    uint64
}

// NewPublisher starts a publisher of service's trace events over nc, on
// subject svc.trace.<service> (service is the identity emitting the events:
// a booth, "bridge", "gateway"). The stream SVC_TRACE must exist (see
// EnsureStream) for events to be stored. Close it to flush.
func NewPublisher(nc *nats.Conn, service string, opts ...PublisherOption) (*Publisher, error) {
	if nc == nil {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "trace publisher: nil NATS connection")
	}
	subject, err := subjects.Trace(service)
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "trace publisher: %w", err)
	}
	o := defaultPublisherOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(o.ackTimeout),
		jetstream.WithPublishAsyncMaxPending(2*o.inFlight))
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeInternal, "trace publisher: %w", err)
	}
	p := &Publisher{
		js: js, conn: watchConn(nc), subject: subject, opts: o,
		msgID:   service + "-" + uuid.NewString() + "-",
		events:  make(chan Event, o.buffer),
		slots:   make(chan struct{}, o.inFlight),
		closing: make(chan struct{}),
		abort:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.pool.New = func() any { return &outBatch{events: make([]Event, 0, o.batchSize)} }
	go p.run()
	return p, nil
}

// Emit enqueues ev for publishing. It never blocks: when the buffer is full,
// or the publisher is closed, ev is dropped and counted in Dropped.
func (p *Publisher) Emit(ev Event) {
	if p.closed.Load() {
		p.droppedFull.Add(1)
		return
	}
	select {
	case p.events <- ev:
	default:
		p.droppedFull.Add(1)
	}
}

// Stats are a publisher's counters.
type Stats struct {
	// Published counts events JetStream acknowledged.
	Published uint64
	// DroppedFull counts events Emit refused: buffer full or publisher closed.
	DroppedFull uint64
	// DroppedFailed counts events whose batch failed every try, or was still
	// unsent when Close gave up.
	DroppedFailed uint64
	// DroppedInvalid counts events that failed Event.Validate.
	DroppedInvalid uint64
	// Pending counts events held: buffered, batching or awaiting an ack.
	Pending int64
	// LastError is the last publishing error seen, or "".
	LastError string
}

// Dropped counts the events dropped for any reason.
func (s Stats) Dropped() uint64 { return s.DroppedFull + s.DroppedFailed + s.DroppedInvalid }

// Stats returns the publisher's counters.
func (p *Publisher) Stats() Stats {
	s := Stats{
		Published: p.published.Load(), DroppedFull: p.droppedFull.Load(),
		DroppedFailed: p.droppedFailed.Load(), DroppedInvalid: p.droppedInvalid.Load(),
		Pending: p.Pending(),
	}
	if e := p.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Published counts events JetStream acknowledged.
func (p *Publisher) Published() uint64 { return p.published.Load() }

// Dropped counts events that will never be published, for any reason.
func (p *Publisher) Dropped() uint64 {
	return p.droppedFull.Load() + p.droppedFailed.Load() + p.droppedInvalid.Load()
}

// Pending counts events held and not yet acknowledged or dropped.
func (p *Publisher) Pending() int64 { return int64(len(p.events)) + p.held.Load() }

// Capacity is the most events the publisher holds at once: the buffer, the
// batch being filled and the batches awaiting acknowledgement.
func (p *Publisher) Capacity() int {
	return p.opts.buffer + (p.opts.inFlight+1)*p.opts.batchSize
}

// Subject returns the subject the publisher publishes on.
func (p *Publisher) Subject() string { return p.subject }

// Close stops taking events, publishes those held and waits for their
// acknowledgements. If ctx ends first, what is left is dropped (and counted)
// and ctx's error returned. Emit after Close drops.
func (p *Publisher) Close(ctx context.Context) error {
	var err error
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		close(p.closing)
		select {
		case <-p.done:
		case <-ctx.Done():
			err = ctx.Err()
			close(p.abort)
			<-p.done
		}
		// An Emit that raced with Close may have left an event behind.
		for {
			select {
			case <-p.events:
				p.droppedFull.Add(1)
				continue
			default:
			}
			break
		}
		p.conn.stop()
	})
	if err != nil {
		return rpc.Errorf(rpc.CodeDeadlineExceeded, "closing trace publisher: %d events dropped: %w", p.Dropped(), err)
	}
	return nil
}

// run batches events: a batch is sent when it is full (by count or by
// size), or when its first event has waited the batch delay, or on Close.
func (p *Publisher) run() {
	defer close(p.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var b *outBatch
	for {
		var ev Event
		select {
		case ev = <-p.events:
		case <-p.closing:
			p.flush(b)
			p.wg.Wait()
			return
		}
		if b = p.add(b, ev); b == nil || len(b.events) != 1 {
			continue
		}
		// b has just been started: fill it until it is full or its first
		// event has waited long enough.
		timer.Reset(p.opts.batchDelay)
	fill:
		for b != nil {
			select {
			case ev := <-p.events:
				b = p.add(b, ev)
			case <-timer.C:
				break fill
			case <-p.closing:
				break fill
			}
		}
		timer.Stop()
		if b != nil {
			p.send(b)
			b = nil
		}
	}
}

// add puts ev in batch b (starting one when b is nil) and sends b when it is
// full, returning the batch still being filled (nil if none). An invalid
// event is dropped and counted.
func (p *Publisher) add(b *outBatch, ev Event) *outBatch {
	clampEvent(&ev)
	if err := ev.Validate(); err != nil {
		p.droppedInvalid.Add(1)
		p.fail(err)
		return b
	}
	if b == nil {
		p.seq++
		b = p.pool.Get().(*outBatch)
		b.events, b.cost, b.seq = b.events[:0], 0, p.seq
	}
	p.held.Add(1)
	b.events = append(b.events, ev)
	b.cost += eventCost(&ev)
	if len(b.events) >= p.opts.batchSize || b.cost > p.byteBudget()-maxEventCost {
		p.send(b)
		return nil
	}
	return b
}

// flush sends b and whatever is in the buffer.
func (p *Publisher) flush(b *outBatch) {
	for {
		select {
		case ev := <-p.events:
			b = p.add(b, ev)
		default:
			if b != nil {
				p.send(b)
			}
			return
		}
	}
}

// byteBudget bounds the encoded size of one message: three quarters of the
// server's maximum payload, leaving room for headers.
func (p *Publisher) byteBudget() int {
	if m := p.conn.nc.MaxPayload(); m > 0 {
		return int(m) * 3 / 4
	}
	return 768 << 10
}
