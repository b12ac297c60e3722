package trace

import (
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Publisher defaults.
const (
	DefaultBufferSize     = 8192
	DefaultBatchSize      = 1000
	DefaultBatchDelay     = 20 * time.Millisecond
	DefaultMaxInFlight    = 8
	DefaultPublishTries   = 8
	DefaultPublishBackoff = 100 * time.Millisecond
	DefaultAckTimeout     = 5 * time.Second
)

type publisherOptions struct {
	buffer     int
	batchSize  int
	batchDelay time.Duration
	inFlight   int
	tries      int
	backoff    time.Duration
	ackTimeout time.Duration
}

func defaultPublisherOptions() publisherOptions {
	return publisherOptions{
		buffer: DefaultBufferSize, batchSize: DefaultBatchSize, batchDelay: DefaultBatchDelay,
		inFlight: DefaultMaxInFlight, tries: DefaultPublishTries, backoff: DefaultPublishBackoff,
		ackTimeout: DefaultAckTimeout,
	}
}

// PublisherOption configures a Publisher; a bad value makes NewPublisher
// return an error naming it.
type PublisherOption func(*publisherOptions) error

// WithBuffer sets how many events wait for the publisher before Emit starts
// dropping them (default 8192).
func WithBuffer(events int) PublisherOption {
	return func(o *publisherOptions) error {
		if events < 1 {
			return rpc.Errorf(rpc.CodeBadRequest, "trace publisher: buffer must hold at least 1 event, got %d", events)
		}
		o.buffer = events
		return nil
	}
}

// WithBatching sets the largest batch (default 1000 events; a batch is also
// cut before its message could outgrow three quarters of the server's
// maximum payload) and how long the first event of a batch waits for others
// (default 20 ms). Large batches matter under load: JetStream stores (and,
// with sync always, flushes to disk) one message per batch.
func WithBatching(maxEvents int, maxDelay time.Duration) PublisherOption {
	return func(o *publisherOptions) error {
		if maxEvents < 1 || maxEvents > 10000 {
			return rpc.Errorf(rpc.CodeBadRequest, "trace publisher: batch size must be in [1,10000], got %d", maxEvents)
		}
		if maxDelay < 0 {
			return rpc.Errorf(rpc.CodeBadRequest, "trace publisher: batch delay must not be negative, got %v", maxDelay)
		}
		o.batchSize, o.batchDelay = maxEvents, maxDelay
		return nil
	}
}

// WithMaxInFlight sets how many batches may await their acknowledgement at
// once (default 8).
func WithMaxInFlight(batches int) PublisherOption {
	return func(o *publisherOptions) error {
		if batches < 1 {
			return rpc.Errorf(rpc.CodeBadRequest, "trace publisher: max in flight must be at least 1, got %d", batches)
		}
		o.inFlight = batches
		return nil
	}
}

// WithPublishTries sets how many times a batch is published before its
// events are dropped (default 8), and the base of the exponential backoff
// between tries (default 100 ms, doubling up to 2 s: about 7 s in all). Tries cut short by a NATS disconnect do not
// count: the batch waits for the reconnect.
func WithPublishTries(tries int, backoff time.Duration) PublisherOption {
	return func(o *publisherOptions) error {
		if tries < 1 || tries > 100 {
			return rpc.Errorf(rpc.CodeBadRequest, "trace publisher: tries must be in [1,100], got %d", tries)
		}
		if backoff < 0 {
			return rpc.Errorf(rpc.CodeBadRequest, "trace publisher: backoff must not be negative, got %v", backoff)
		}
		o.tries, o.backoff = tries, backoff
		return nil
	}
}

// WithAckTimeout sets how long a batch waits for JetStream's acknowledgement
// before the try counts as failed (default 5 s).
func WithAckTimeout(d time.Duration) PublisherOption {
	return func(o *publisherOptions) error {
		if d <= 0 {
			return rpc.Errorf(rpc.CodeBadRequest, "trace publisher: ack timeout must be positive, got %v", d)
		}
		o.ackTimeout = d
		return nil
	}
}
