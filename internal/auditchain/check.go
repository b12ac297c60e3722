package auditchain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

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

// checker follows the chain one entry at a time.
type checker struct {
	r        Report
	prevSeq  uint64
	prevHash string
	// linkable says whether prevHash is the hash the next record must
	// name: the entry before it was read and readable.
	linkable bool
}

func (c *checker) add(e Entry) {
	switch {
	case c.r.Count == 0:
		c.r.FirstSeq = e.Seq
		if e.Seq > 1 {
			c.gap(1, e.Seq-1)
		}
		c.linkable = e.Seq == 1 // the first record links to nothing: ""
	case e.Seq <= c.prevSeq:
		c.problem(e.Seq, fmt.Sprintf("read out of order, after sequence %d", c.prevSeq))
		return
	case e.Seq != c.prevSeq+1:
		c.gap(c.prevSeq+1, e.Seq-1)
		c.linkable = false
	}
	c.r.Count++
	c.r.LastSeq, c.prevSeq = e.Seq, e.Seq

	rec, err := decode(e.Data)
	if err != nil {
		c.problem(e.Seq, "unreadable record: "+err.Error())
		c.linkable = false
		return
	}
	switch {
	case rec.Hash == "":
		c.problem(e.Seq, "record has no hash: it is not chained")
	case rec.Hash != rec.ChainHash():
		c.problem(e.Seq, "altered: the content does not match the record's hash")
	default:
		if canon, _ := json.Marshal(rec); !bytes.Equal(canon, e.Data) {
			c.problem(e.Seq, "altered: the stored bytes are not the record's canonical encoding")
		}
	}
	if c.linkable && rec.PrevHash != c.prevHash {
		if e.Seq == 1 {
			c.problem(e.Seq, "the first record names a previous hash")
		} else {
			c.problem(e.Seq, fmt.Sprintf("prev_hash does not link to the hash of sequence %d", e.Seq-1))
		}
	}
	// The next record must name the hash this one carries, altered or not:
	// a record rewritten with a fresh hash is caught by the next link.
	c.prevHash, c.linkable = rec.Hash, true
}

func (c *checker) gap(from, to uint64) { c.r.Gaps = append(c.r.Gaps, Gap{From: from, To: to}) }

func (c *checker) problem(seq uint64, reason string) {
	c.r.Problems = append(c.r.Problems, Problem{Seq: seq, Reason: reason})
}

// finish closes the report of a stream whose last sequence is lastSeq.
func (c *checker) finish(lastSeq uint64) Report {
	if lastSeq > c.prevSeq {
		c.gap(c.prevSeq+1, lastSeq)
	}
	return c.r
}

// decode reads one audit record, refusing fields an AuditRecord does not
// have: a field slipped into a stored record is an alteration.
func decode(data []byte) (booths.AuditRecord, error) {
	var rec booths.AuditRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return rec, fmt.Errorf("data after the record")
	}
	return rec, nil
}
