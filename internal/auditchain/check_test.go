package auditchain_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/auditchain"
	"github.com/hms-svc/hms-svc/internal/booths"
)

// chain builds n chained records at sequences 1..n, as audit-log writes them.
func chain(t *testing.T, n int) []auditchain.Entry {
	t.Helper()
	var entries []auditchain.Entry
	prev := ""
	for i := 1; i <= n; i++ {
		rec := booths.AuditRecord{
			ID: fmt.Sprintf("rec-%d", i), RequestID: fmt.Sprintf("req-%d", i), Action: "license-issued",
			DocID: fmt.Sprintf("doc-%d", i), Fee: 125, UserMasked: "***-**-6789", UserHash: "ab12",
			RecordedAt: "2025-01-02T03:04:05Z", PrevHash: prev,
		}
		rec.Hash = rec.ChainHash()
		prev = rec.Hash
		entries = append(entries, auditchain.Entry{Seq: uint64(i), Data: encode(t, rec)})
	}
	return entries
}

func encode(t *testing.T, rec booths.AuditRecord) []byte {
	t.Helper()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decodeRec(t *testing.T, data []byte) booths.AuditRecord {
	t.Helper()
	var rec booths.AuditRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// breakAfter replaces the record at seq with data (none: keeps it) and
// makes the record after it name brk and pin prevHash (default: the
// StoredHash of the record at seq), as audit-log continues over a break.
func breakAfter(t *testing.T, e []auditchain.Entry, seq int, data string, brk booths.ChainBreak, prevHash string) []auditchain.Entry {
	t.Helper()
	if data != "" {
		e[seq-1].Data = []byte(data)
	}
	if prevHash == "" {
		prevHash = booths.StoredHash(e[seq-1].Data)
	}
	rec := decodeRec(t, e[seq].Data)
	rec.PrevHash, rec.Break = prevHash, &brk
	rec.Hash = rec.ChainHash()
	e[seq].Data = encode(t, rec)
	return e
}

func problemSeqs(r auditchain.Report) []uint64 {
	var seqs []uint64
	for _, p := range r.Problems {
		seqs = append(seqs, p.Seq)
	}
	return seqs
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name        string
		mutate      func(t *testing.T, e []auditchain.Entry) []auditchain.Entry
		lastSeq     uint64
		wantCount   uint64
		wantGaps    []auditchain.Gap
		wantProblem map[uint64]string // seq -> part of the reason
	}{
		{name: "intact", lastSeq: 6, wantCount: 6},
		{name: "empty stream", lastSeq: 0, wantCount: 0,
			mutate: func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry { return nil }},
		{name: "content altered, hash kept", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				rec := decodeRec(t, e[2].Data)
				rec.Fee = 1
				e[2].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{3: "edited: the content does not match"}},
		{name: "content altered, hash recomputed", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				rec := decodeRec(t, e[2].Data)
				rec.DocID = "forged"
				rec.Hash = rec.ChainHash()
				e[2].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{4: "gap: prev_hash does not link to the hash of sequence 3"}},
		{name: "field slipped in", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[1].Data = []byte(strings.Replace(string(e[1].Data), `{`, `{"approved":true,`, 1))
				return e
			},
			wantProblem: map[uint64]string{2: `foreign: unreadable record: json: unknown field "approved"`}},
		{name: "bytes respelled", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[4].Data = append([]byte(" "), e[4].Data...)
				return e
			},
			wantProblem: map[uint64]string{5: "edited: the stored bytes are not the record's canonical encoding"}},
		{name: "unreadable", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[3].Data = []byte("not json")
				return e
			},
			// Record 5 linked to the record that was there.
			wantProblem: map[uint64]string{4: "foreign: unreadable record", 5: "gap: prev_hash does not link"}},
		{name: "no hash", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				rec := decodeRec(t, e[0].Data)
				rec.Hash = ""
				e[0].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{1: "foreign: record has no hash", 2: "gap: prev_hash does not link"}},
		{name: "first record names a previous one", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				rec := decodeRec(t, e[0].Data)
				rec.PrevHash = strings.Repeat("0", 64)
				rec.Hash = rec.ChainHash()
				e[0].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{1: "gap: the first record names a previous record", 2: "gap: prev_hash does not link"}},
		{name: "missing in the middle", lastSeq: 6, wantCount: 5,
			mutate:   func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry { return slices.Delete(e, 2, 3) },
			wantGaps: []auditchain.Gap{{From: 3, To: 3}}},
		{name: "missing at the start", lastSeq: 6, wantCount: 4,
			mutate:   func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry { return e[2:] },
			wantGaps: []auditchain.Gap{{From: 1, To: 2}}},
		{name: "missing at the end", lastSeq: 6, wantCount: 5,
			mutate:   func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry { return e[:5] },
			wantGaps: []auditchain.Gap{{From: 6, To: 6}}},
		{name: "a foreign record, continued over as audit-log does", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				return breakAfter(t, e, 5, `{"id":"x"}`, booths.ChainBreak{Seq: 5, Kind: booths.ChainForeign}, "")
			},
			wantProblem: map[uint64]string{5: "foreign: record has no hash"}},
		{name: "a break pinning other bytes", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				return breakAfter(t, e, 5, `{"id":"x"}`, booths.ChainBreak{Seq: 5, Kind: booths.ChainForeign}, booths.StoredHash([]byte("other")))
			},
			wantProblem: map[uint64]string{5: "foreign: record has no hash", 6: "gap: prev_hash does not link to the stored bytes of sequence 5"}},
		{name: "a break naming another sequence", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				return breakAfter(t, e, 5, `{"id":"x"}`, booths.ChainBreak{Seq: 3, Kind: booths.ChainForeign}, "")
			},
			wantProblem: map[uint64]string{5: "foreign: record has no hash", 6: "foreign: names a break at sequence 3, not at the record before it"}},
		{name: "a break of another kind", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				return breakAfter(t, e, 5, `{"id":"x"}`, booths.ChainBreak{Seq: 5, Kind: booths.ChainEdited}, "")
			},
			wantProblem: map[uint64]string{5: "foreign: record has no hash", 6: "foreign: names a break of kind edited at sequence 5, which is foreign"}},
		{name: "a break over a sound record", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				return breakAfter(t, e, 5, "", booths.ChainBreak{Seq: 5, Kind: booths.ChainForeign}, "")
			},
			wantProblem: map[uint64]string{6: "foreign: names a break at sequence 5, which is a sound record"}},
		{name: "a break audit-log does not write", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				return breakAfter(t, e, 5, `{"id":"x"}`, booths.ChainBreak{Seq: 5, Kind: booths.ChainGap}, "")
			},
			wantProblem: map[uint64]string{5: "foreign: record has no hash", 6: "foreign: record names a break audit-log does not write"}},
		{name: "restarted after a foreign record", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[4].Data = []byte(`{"id":"x"}`)
				rec := decodeRec(t, e[5].Data)
				rec.PrevHash = ""
				rec.Hash = rec.ChainHash()
				e[5].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{5: "foreign: record has no hash", 6: "restart: prev_hash is empty after the first record"}},
		{name: "two records swapped", lastSeq: 6, wantCount: 6,
			mutate: func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[2].Data, e[3].Data = e[3].Data, e[2].Data
				return e
			},
			wantProblem: map[uint64]string{3: "does not link", 4: "does not link", 5: "does not link"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries := chain(t, 6)
			if tc.mutate != nil {
				entries = tc.mutate(t, entries)
			}
			got := auditchain.Check("T", tc.lastSeq, entries)
			if got.Count != tc.wantCount || !slices.Equal(got.Gaps, tc.wantGaps) {
				t.Errorf("count %d gaps %v, want %d and %v", got.Count, got.Gaps, tc.wantCount, tc.wantGaps)
			}
			if len(got.Problems) != len(tc.wantProblem) {
				t.Errorf("problems %+v, want at %v", got.Problems, tc.wantProblem)
			}
			for _, p := range got.Problems {
				if want, ok := tc.wantProblem[p.Seq]; !ok || !strings.Contains(string(p.Kind)+": "+p.Reason, want) {
					t.Errorf("seq %d: %s: %q, want %q", p.Seq, p.Kind, p.Reason, want)
				}
			}
			wantOK := len(tc.wantGaps) == 0 && len(tc.wantProblem) == 0
			if got.OK() != wantOK {
				t.Errorf("OK() = %v, want %v", got.OK(), wantOK)
			}
			verdict := "OK: the chain is intact"
			if !wantOK {
				verdict = "BROKEN:"
			}
			if s := got.String(); !strings.Contains(s, verdict) {
				t.Errorf("report lacks %q:\n%s", verdict, s)
			}
		})
	}
}

func TestReportString(t *testing.T) {
	r := auditchain.Report{
		Stream: "AUDIT", Count: 4, FirstSeq: 1, LastSeq: 6,
		Gaps: []auditchain.Gap{{From: 2, To: 2}, {From: 4, To: 5}},
		Problems: []auditchain.Problem{
			{Seq: 6, Kind: booths.ChainEdited, Reason: "the content does not match the record's hash"},
			{Seq: 6, Kind: booths.ChainRestart, Reason: "prev_hash is empty after the first record: a new chain was started"},
		},
	}
	want := `stream AUDIT: 4 records, sequences 1 to 6
seq 2: gap: the record is missing
seq 4-5: gap: 2 records are missing
seq 6: edited: the content does not match the record's hash
seq 6: restart: prev_hash is empty after the first record: a new chain was started
BROKEN: 1 edited, 1 restart, 2 gap
`
	if got := r.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
