package auditchain

import (
	"fmt"

	"github.com/hms-svc/hms-svc/internal/booths"
)

// Entry is one message of an audit stream as stored: its stream sequence
// and its data.
type Entry struct {
	Seq  uint64
	Data []byte
}

// Check verifies entries read from stream in sequence order, up to the
// stream's last sequence lastSeq (missing sequences after the last entry
// are a gap). Use it for records read some other way than Verify does,
// such as from one node of a cluster.
func Check(stream string, lastSeq uint64, entries []Entry) Report {
	c := checker{r: Report{Stream: stream}}
	for _, e := range entries {
		c.add(e)
	}
	return c.finish(lastSeq)
}

// checker follows the chain one entry at a time, with the checks audit-log
// makes of the tail it appends to (booths.CheckStored, booths.CheckLink).
type checker struct {
	r       Report
	prevSeq uint64
	// prev is the entry just before the next one, nil when that one is
	// missing (a gap) or none was read yet.
	prev *booths.Stored
}

func (c *checker) add(e Entry) {
	switch {
	case c.r.Count == 0:
		c.r.FirstSeq = e.Seq
		if e.Seq > 1 {
			c.gap(1, e.Seq-1)
		}
	case e.Seq <= c.prevSeq:
		c.problem(booths.ChainProblem{Seq: e.Seq, Kind: booths.ChainGap,
			Reason: fmt.Sprintf("read out of order, after sequence %d", c.prevSeq)})
		return
	case e.Seq != c.prevSeq+1:
		c.gap(c.prevSeq+1, e.Seq-1)
		c.prev = nil
	}
	c.r.Count++
	c.r.LastSeq, c.prevSeq = e.Seq, e.Seq

	st := booths.CheckStored(e.Seq, e.Data)
	if st.Problem != nil {
		c.problem(*st.Problem)
	}
	// A record unreadable or missing fields has no link to check; any
	// other is checked against the one before, altered or not: a record
	// rewritten with a fresh hash is caught by the next link.
	if st.Problem == nil || st.Problem.Kind == booths.ChainEdited {
		if p := booths.CheckLink(c.prev, st); p != nil {
			c.problem(*p)
		}
	}
	c.prev = &st
}

func (c *checker) gap(from, to uint64) { c.r.Gaps = append(c.r.Gaps, Gap{From: from, To: to}) }

func (c *checker) problem(p booths.ChainProblem) { c.r.Problems = append(c.r.Problems, p) }

// finish closes the report of a stream whose last sequence is lastSeq.
func (c *checker) finish(lastSeq uint64) Report {
	if lastSeq > c.prevSeq {
		c.gap(c.prevSeq+1, lastSeq)
	}
	return c.r
}
