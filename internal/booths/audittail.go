package booths

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// readTail reads the last record of the stream (none: sequence 0, no
// hash), checks it, and sets what the next record links to.
func (c *auditChain) readTail(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, auditAttemptTimeout)
	defer cancel()
	msg, err := c.stream.GetLastMsgForSubject(rctx, AuditSubject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		if err := c.checkState(rctx); err != nil {
			return err
		}
		c.tailKnown, c.tailSeq, c.tailHash, c.tailBreak = true, 0, "", nil
		return nil
	}
	if err != nil {
		return err
	}
	tail, err := c.checkTail(rctx, msg)
	if err != nil {
		return err
	}
	c.tailKnown, c.tailSeq, c.tailHash, c.tailBreak = true, msg.Sequence, tail.Record.Hash, nil
	if p := tail.Problem; p != nil {
		c.tailHash, c.tailBreak = StoredHash(msg.Data), &ChainBreak{Seq: msg.Sequence, Kind: p.Kind}
	}
	return nil
}

// checkTail checks the tail record msg on its own and its link to the
// record before it, and the stream's state, reporting what is wrong.
func (c *auditChain) checkTail(ctx context.Context, msg *jetstream.RawStreamMsg) (Stored, error) {
	tail := CheckStored(msg.Sequence, msg.Data)
	if p := tail.Problem; p != nil {
		c.watch.report("", *p)
	}
	if tail.Problem == nil || tail.Problem.Kind == ChainEdited {
		var prev *Stored
		if msg.Sequence > 1 {
			pm, err := c.stream.GetMsg(ctx, msg.Sequence-1)
			switch {
			case errors.Is(err, jetstream.ErrMsgNotFound): // a gap: checkState reports it
			case err != nil:
				return tail, err
			default:
				st := CheckStored(pm.Sequence, pm.Data)
				prev = &st
			}
		}
		if p := CheckLink(prev, tail); p != nil {
			c.watch.report("", *p)
		}
	}
	return tail, c.checkState(ctx)
}

// checkState reports the records missing from the stream: before its
// first sequence, or deleted between its first and last.
func (c *auditChain) checkState(ctx context.Context) error {
	info, err := c.stream.Info(ctx)
	if err != nil {
		return err
	}
	st := info.State
	if st.Msgs == 0 && st.LastSeq > 0 {
		c.watch.report("", ChainProblem{Seq: 1, Last: st.LastSeq, Kind: ChainGap,
			Reason: fmt.Sprintf("the stream holds no record, but %d were written", st.LastSeq)})
		return nil
	}
	if st.FirstSeq > 1 {
		c.watch.report("", ChainProblem{Seq: 1, Last: st.FirstSeq - 1, Kind: ChainGap,
			Reason: fmt.Sprintf("the stream starts at sequence %d: the records before it were removed", st.FirstSeq)})
	}
	if st.NumDeleted > 0 {
		c.watch.report(fmt.Sprint(st.NumDeleted), ChainProblem{Seq: st.FirstSeq, Last: st.LastSeq, Kind: ChainGap,
			Reason: fmt.Sprintf("%d records between sequences %d and %d were deleted", st.NumDeleted, st.FirstSeq, st.LastSeq)})
	}
	return nil
}
