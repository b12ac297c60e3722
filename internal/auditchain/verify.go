package auditchain

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
)

// ErrNoStream is matched by the error of Verify when the stream does not
// exist.
var ErrNoStream = errors.New("audit stream not found")

// Verify reads the AUDIT stream from its first record to its last (as of
// the start) and checks the hash chain. The error is for a stream that
// cannot be read; what is wrong with the records is in the Report.
func Verify(ctx context.Context, js jetstream.JetStream) (Report, error) {
	return VerifyStream(ctx, js, booths.AuditStream)
}

// VerifyStream is Verify for the stream called name: a copy of AUDIT, or a
// stream holding audit records on other subjects.
func VerifyStream(ctx context.Context, js jetstream.JetStream, name string) (Report, error) {
	st, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return Report{}, fmt.Errorf("%w: %s (no record has been written yet?)", ErrNoStream, name)
	}
	if err != nil {
		return Report{}, fmt.Errorf("reading stream %s: %w", name, err)
	}
	state := st.CachedInfo().State
	c := checker{r: Report{Stream: name}}
	if state.Msgs > 0 {
		if err := readAll(ctx, st, state.LastSeq, c.add); err != nil {
			return Report{}, fmt.Errorf("reading stream %s: %w", name, err)
		}
	}
	return c.finish(state.LastSeq), nil
}

// readAll passes every message of st up to sequence last to add, in order.
func readAll(ctx context.Context, st jetstream.Stream, last uint64, add func(Entry)) error {
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			return err
		}
		add(Entry{Seq: meta.Sequence.Stream, Data: msg.Data()})
		// Stop at the last record of the start, or earlier if the records
		// after this one are gone.
		if meta.Sequence.Stream >= last || meta.NumPending == 0 {
			return nil
		}
	}
}

// RunVerify verifies AUDIT over nc and prints the report to w. ok is
// whether the chain is intact; err is for a stream that cannot be read.
func RunVerify(ctx context.Context, nc *nats.Conn, w io.Writer) (ok bool, err error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return false, err
	}
	r, err := Verify(ctx, js)
	if err != nil {
		return false, err
	}
	if _, err := io.WriteString(w, r.String()); err != nil {
		return false, err
	}
	return r.OK(), nil
}
