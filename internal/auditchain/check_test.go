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
			wantProblem: map[uint64]string{3: "content does not match"}},
		{name: "content altered, hash recomputed", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				rec := decodeRec(t, e[2].Data)
				rec.DocID = "forged"
				rec.Hash = rec.ChainHash()
				e[2].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{4: "does not link to the hash of sequence 3"}},
		{name: "field slipped in", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[1].Data = []byte(strings.Replace(string(e[1].Data), `{`, `{"approved":true,`, 1))
				return e
			},
			wantProblem: map[uint64]string{2: `unknown field "approved"`}},
		{name: "bytes respelled", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[4].Data = append([]byte(" "), e[4].Data...)
				return e
			},
			wantProblem: map[uint64]string{5: "not the record's canonical encoding"}},
		{name: "unreadable", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				e[3].Data = []byte("not json")
				return e
			},
			wantProblem: map[uint64]string{4: "unreadable record"}},
		{name: "no hash", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				rec := decodeRec(t, e[0].Data)
				rec.Hash = ""
				e[0].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{1: "no hash", 2: "does not link"}},
		{name: "first record names a previous one", lastSeq: 6, wantCount: 6,
			mutate: func(t *testing.T, e []auditchain.Entry) []auditchain.Entry {
				rec := decodeRec(t, e[0].Data)
				rec.PrevHash = strings.Repeat("0", 64)
				rec.Hash = rec.ChainHash()
				e[0].Data = encode(t, rec)
				return e
			},
			wantProblem: map[uint64]string{1: "first record names a previous hash", 2: "does not link"}},
		{name: "missing in the middle", lastSeq: 6, wantCount: 5,
			mutate:   func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry { return slices.Delete(e, 2, 3) },
			wantGaps: []auditchain.Gap{{From: 3, To: 3}}},
		{name: "missing at the start", lastSeq: 6, wantCount: 4,
			mutate:   func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry { return e[2:] },
			wantGaps: []auditchain.Gap{{From: 1, To: 2}}},
		{name: "missing at the end", lastSeq: 6, wantCount: 5,
			mutate:   func(_ *testing.T, e []auditchain.Entry) []auditchain.Entry { return e[:5] },
			wantGaps: []auditchain.Gap{{From: 6, To: 6}}},
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
				if want, ok := tc.wantProblem[p.Seq]; !ok || !strings.Contains(p.Reason, want) {
					t.Errorf("seq %d: %q, want %q", p.Seq, p.Reason, want)
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
		Gaps:     []auditchain.Gap{{From: 2, To: 2}, {From: 4, To: 5}},
		Problems: []auditchain.Problem{{Seq: 6, Reason: "altered: the content does not match the record's hash"}},
	}
	want := `stream AUDIT: 4 records, sequences 1 to 6
gap: sequence 2 is missing
gap: sequences 4 to 5 are missing (2 records)
seq 6: altered: the content does not match the record's hash
BROKEN: 2 gaps, 1 problems
`
	if got := r.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
