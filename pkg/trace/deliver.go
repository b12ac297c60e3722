package trace

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// send hands b to a delivery goroutine once fewer than the in-flight limit
// are awaiting acknowledgements; meanwhile the buffer fills.
func (p *Publisher) send(b *outBatch) {
	select {
	case p.slots <- struct{}{}:
	case <-p.abort:
		p.settle(b, false)
		return
	}
	p.wg.Add(1)
	go p.deliver(b)
}

// deliver publishes b until it is acknowledged, or drops it after the last
// try or when Close gives up.
func (p *Publisher) deliver(b *outBatch) {
	defer func() { <-p.slots; p.wg.Done() }()
	msg := p.message(b)
	for try := 1; ; {
		if !p.conn.wait(p.abort) {
			p.fail(errors.New("NATS connection closed or publisher aborted"))
			p.settle(b, false)
			return
		}
		err := p.publish(msg)
		if err == nil {
			p.settle(b, true)
			return
		}
		p.fail(err)
		if errors.Is(err, errAborted) {
			p.settle(b, false)
			return
		}
		if disconnected(err) {
			continue // waits for the reconnect; the try does not count
		}
		if try >= p.opts.tries {
			p.settle(b, false)
			return
		}
		if !pause(p.abort, min(p.opts.backoff<<(try-1), maxBackoff)) {
			p.settle(b, false)
			return
		}
		try++
	}
}

var errAborted = errors.New("publisher aborted")

// maxBackoff caps the wait between tries of a batch.
const maxBackoff = 2 * time.Second

// publish sends one batch and waits for its acknowledgement.
func (p *Publisher) publish(msg *nats.Msg) error {
	fut, err := p.js.PublishMsgAsync(msg, jetstream.WithRetryAttempts(0))
	if err != nil {
		return err
	}
	select {
	case <-fut.Ok():
		return nil
	case err := <-fut.Err():
		return err
	case <-p.abort:
		return errAborted
	}
}

// disconnected reports whether err came from losing the connection, after
// which the batch waits for the reconnect instead of using up a try.
func disconnected(err error) bool {
	return errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrReconnectBufExceeded)
}

// message encodes b with its deduplication id and the trace ids it holds.
func (p *Publisher) message(b *outBatch) *nats.Msg {
	b.data = appendBatch(b.data[:0], b.events)
	seen := make(map[TraceID]struct{}, len(b.events))
	var ids strings.Builder
	for i := range b.events {
		id := b.events[i].TraceID
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		if ids.Len() > 0 {
			ids.WriteByte(',')
		}
		ids.WriteString(id.String())
	}
	h := nats.Header{}
	h.Set(jetstream.MsgIDHeader, p.msgID+strconv.FormatUint(b.seq, 10))
	h.Set(HeaderTraceIDs, ids.String())
	return &nats.Msg{Subject: p.subject, Header: h, Data: b.data}
}

// settle counts b's events as published or dropped and recycles b.
func (p *Publisher) settle(b *outBatch, ok bool) {
	n := len(b.events)
	if ok {
		p.published.Add(uint64(n))
	} else {
		p.droppedFailed.Add(uint64(n))
	}
	p.held.Add(-int64(n))
	clear(b.events)
	b.events = b.events[:0]
	p.pool.Put(b)
}

func (p *Publisher) fail(err error) {
	s := err.Error()
	p.lastErr.Store(&s)
}

// pause waits d; it reports false if abort is closed first.
func pause(abort <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-abort:
		return false
	}
}
