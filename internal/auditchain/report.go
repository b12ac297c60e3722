package auditchain

import (
	"fmt"
	"strings"

	"github.com/hms-svc/hms-svc/internal/booths"
)

// Gap is a run of sequences, From to To inclusive, missing from a stream.
type Gap struct {
	From, To uint64
}

// Problem is a record that breaks the chain: its sequence, the kind of
// problem (foreign, edited, restart, gap) and why.
type Problem = booths.ChainProblem

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
	// Problems lists the records that audit-log did not write (foreign),
	// that do not match their hash (edited), that start a new chain
	// (restart) or that do not link to the record before them (gap).
	Problems []Problem
}

// OK reports whether the chain is whole: no gap and no problem.
func (r Report) OK() bool { return len(r.Gaps) == 0 && len(r.Problems) == 0 }

// maxListed bounds how many gaps and problems String lists.
const maxListed = 50

// Kinds counts the problems by kind, missing runs of records as gaps.
func (r Report) Kinds() map[booths.ChainKind]int {
	out := map[booths.ChainKind]int{}
	if len(r.Gaps) > 0 {
		out[booths.ChainGap] += len(r.Gaps)
	}
	for _, p := range r.Problems {
		out[p.Kind]++
	}
	return out
}

// String is the report for people: a summary line, one line per gap and
// problem naming its sequence and kind (the first 50 of each), and a
// verdict.
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
			fmt.Fprintf(&b, "seq %d: gap: the record is missing\n", g.From)
		} else {
			fmt.Fprintf(&b, "seq %d-%d: gap: %d records are missing\n", g.From, g.To, g.To-g.From+1)
		}
	}
	for i, p := range r.Problems {
		if i == maxListed {
			fmt.Fprintf(&b, "... and %d more problems\n", len(r.Problems)-maxListed)
			break
		}
		fmt.Fprintln(&b, p)
	}
	if r.OK() {
		b.WriteString("OK: the chain is intact: every record matches its hash and links to the one before it\n")
		return b.String()
	}
	kinds := r.Kinds()
	var parts []string
	for _, k := range booths.ChainKinds() {
		if n := kinds[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	fmt.Fprintf(&b, "BROKEN: %s\n", strings.Join(parts, ", "))
	return b.String()
}
