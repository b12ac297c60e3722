package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Verdict says whether a row's target holds.
type Verdict string

// The verdicts.
const (
	Holds   Verdict = "yes"
	Misses  Verdict = "**no**"
	Pending Verdict = "pending"
	NoGoal  Verdict = "—"
)

func verdict(ok bool) Verdict {
	if ok {
		return Holds
	}
	return Misses
}

// Row is one line of the benchmark table: a pair, what was measured, each
// side's figure, how they compare, the target and whether it holds.
type Row struct {
	Pair, Measured string
	A, B           string
	Compare        string
	Target         string
	Holds          Verdict
}

// Report is a whole run.
type Report struct {
	Machine Machine
	Rounds  int
	Took    time.Duration
	Rows    []Row
	// Sides is the table of every side's medians.
	Sides []SideFigures
	// Rounds of the ratios, for those who want to see the spread.
	Spread []string
	Notes  []string
}

// SideFigures are one side's medians at one load.
type SideFigures struct {
	Side, Load             string
	Rate, P50, P90, P99    float64 // calls/s, µs
	CPUPer1000, AllocsCall float64
}

// KeptMarker starts the part of BENCHMARKS.md that is written by hand (the
// analysis of the figures): WriteFile keeps everything from this line on.
const KeptMarker = "<!-- Everything below this line is kept by make bench: the analysis, written by hand. -->"

// WriteFile writes the report to path as Markdown, keeping the hand-written
// part of the file already there (from KeptMarker on).
func (r *Report) WriteFile(path string) error {
	var kept []byte
	if old, err := os.ReadFile(path); err == nil {
		if i := bytes.Index(old, []byte(KeptMarker)); i >= 0 {
			kept = old[i:]
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var b bytes.Buffer
	r.Markdown(&b)
	if kept != nil {
		b.WriteString("\n")
		b.Write(kept)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// noteErrors records, as a note, the failed calls of one run.
func (r *Report) noteErrors(round int, side, load string, res Result) {
	if res.Errors == 0 {
		return
	}
	r.Notes = append(r.Notes, fmt.Sprintf("Round %d, %s, %s: %d of %d calls failed and were timed as they came (first: %s).",
		round+1, side, load, res.Errors, res.Calls+res.Errors, res.FirstError))
}

// Markdown writes the report as BENCHMARKS.md.
func (r *Report) Markdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "# HMS-SVC benchmarks\n\n")
	fmt.Fprintf(w, "Written by `make bench` (`scripts/bench.sh` → `cmd/meshbench`) on %s, in %s.\n\n",
		m.Date.Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	fmt.Fprintf(w, "| machine | |\n|---|---|\n")
	fmt.Fprintf(w, "| CPUs (`nproc`) | %d |\n| CPU model | %s |\n| Go | %s |\n", m.CPUs, m.CPUModel, m.GoVersion)
	fmt.Fprintf(w, "| NATS server (embedded) | v%s |\n| nats.go | v%s |\n| h2load | %s |\n| nginx | %s |\n",
		m.NATSServer, m.NATSClient, m.H2Load, m.Nginx)
	if m.Commit != "" {
		fmt.Fprintf(w, "| code measured | %s |\n", m.Commit)
	}
	fmt.Fprintf(w, "| load average at start | %s |\n\n", m.LoadAverage)
	fmt.Fprintf(w, "Every pair runs side by side in the same run: the sides alternate (in a rotated order each round), "+
		"%d rounds, and each figure is the median over the rounds; ratios and added latencies are the medians "+
		"of the per-round comparisons. Only loopback traffic. The machine is shared: other work was running "+
		"during the run, so single figures move by 10-20%% between runs; the pairwise comparisons are steadier.\n\n", r.Rounds)
	fmt.Fprintf(w, "| pair (A vs B) | measured | A | B | A vs B | target | holds |\n|---|---|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n",
			row.Pair, row.Measured, row.A, row.B, row.Compare, row.Target, row.Holds)
	}
	if len(r.Sides) > 0 {
		fmt.Fprintf(w, "\n## Every side, medians\n\n")
		fmt.Fprintf(w, "Latency is timed from the call's start in closed-loop runs and from its scheduled send in open-loop runs "+
			"(the Go runners); h2load times a request from its actual send. CPU of the in-process sides is the whole benchmark "+
			"process's (client, booth and embedded NATS server together) from rusage, allocations likewise; CPU of the HTTP "+
			"sides is their server processes' (bridge, NATS, booths; or nginx and the plain server), load generator excluded.\n\n")
		fmt.Fprintf(w, "| side | load | calls/s | p50 | p90 | p99 | CPU s / 1000 calls | allocs / call |\n|---|---|---|---|---|---|---|---|\n")
		for _, s := range r.Sides {
			cpu, allocs := "", ""
			if s.CPUPer1000 > 0 {
				cpu = fmt.Sprintf("%.3f", s.CPUPer1000)
			}
			if s.AllocsCall > 0 {
				allocs = fmt.Sprintf("%.0f", s.AllocsCall)
			}
			lat := func(v float64) string {
				if v == 0 {
					return ""
				}
				return fmtUS(v)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Side, s.Load, fmtRate(s.Rate),
				lat(s.P50), lat(s.P90), lat(s.P99), cpu, allocs)
		}
	}
	if len(r.Spread) > 0 {
		fmt.Fprintf(w, "\n## Per-round comparisons\n\n")
		for _, s := range r.Spread {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(w, "\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

// Text writes the table for a terminal.
func (r *Report) Text(w io.Writer) {
	cols := [][]string{{"pair", "measured", "A", "B", "A vs B", "target", "holds"}}
	for _, row := range r.Rows {
		cols = append(cols, []string{row.Pair, row.Measured, row.A, row.B, row.Compare, row.Target, strings.Trim(string(row.Holds), "*")})
	}
	width := make([]int, len(cols[0]))
	for _, c := range cols {
		for i, v := range c {
			width[i] = max(width[i], len([]rune(v)))
		}
	}
	for _, c := range cols {
		for i, v := range c {
			fmt.Fprintf(w, "%-*s  ", width[i], v)
		}
		fmt.Fprintln(w)
	}
}
