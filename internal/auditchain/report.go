package auditchain

import (
	"fmt"
	"strings"
)

// Gap is a run of sequences, From to To inclusive, missing from a stream.
type Gap struct {
	From, To uint64
}

// Problem is a record that breaks the chain, and why.
type Problem struct {
	Seq    uint64
	Reason string
}

// Report is what a verification found.
type Report struct {
	// Stream is the stream read.
	Stream string
	// Count is how many records were read; FirstSeq and LastSeq are the
	// sequences of the first and last of them (0 when none).
	Count             uint64
	FirstSeq, LastSeq uint64
	// Gaps lists the sequences missing between 1 and the stream's last.
	Gaps []Gap
	// Problems lists the records that are unreadable, altered, or do not
	// link to the record before them.
	Problems []Problem
}

// OK reports whether the chain is whole: no gap and no problem.
func (r Report) OK() bool { return len(r.Gaps) == 0 && len(r.Problems) == 0 }

// maxListed bounds how many gaps and problems String lists.
const maxListed = 50

// String is the report for people: a summary line, each gap and problem
// (the first 50 of each), and a verdict.
func (r Report) String() string {
	var b strings.Builder
	switch r.Count {
	case 0:
		fmt.Fprintf(&b, "stream %s: no records\n", r.Stream)
	default:
		fmt.Fprintf(&b, "stream %s: %d records, sequences %d to %d\n", r.Stream, r.Count, r.FirstSeq, r.LastSeq)
	}
	for i, g := range r.Gaps {
		if i == maxListed {
			fmt.Fprintf(&b, "... and %d more gaps\n", len(r.Gaps)-maxListed)
			break
		}
		if g.From == g.To {
			fmt.Fprintf(&b, "gap: sequence %d is missing\n", g.From)
		} else {
			fmt.Fprintf(&b, "gap: sequences %d to %d are missing (%d records)\n", g.From, g.To, g.To-g.From+1)
		}
	}
	for i, p := range r.Problems {
		if i == maxListed {
			fmt.Fprintf(&b, "... and %d more problems\n", len(r.Problems)-maxListed)
			break
		}
		fmt.Fprintf(&b, "seq %d: %s\n", p.Seq, p.Reason)
	}
	if r.OK() {
		b.WriteString("OK: the chain is intact: every record matches its hash and links to the one before it\n")
	} else {
		fmt.Fprintf(&b, "BROKEN: %d gaps, %d problems\n", len(r.Gaps), len(r.Problems))
	}
	return b.String()
}
