package booths

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// ChainKind names what breaks the audit chain at a record. The verifier
// (meshctl audit verify) and audit-log, which checks the tail it appends
// to, use the same checks (CheckStored, CheckLink) and kinds.
type ChainKind string

// The kinds of problem an audit chain can have.
const (
	// ChainForeign: a record audit-log's append path does not make:
	// unreadable, an unknown or a missing field, no hash, or a break it did
	// not write.
	ChainForeign ChainKind = "foreign"
	// ChainEdited: the record's content, or its stored bytes, do not match
	// its hash.
	ChainEdited ChainKind = "edited"
	// ChainRestart: a record after the first with prev_hash "": a new
	// chain was started.
	ChainRestart ChainKind = "restart"
	// ChainGap: records are missing, or prev_hash is not the hash of the
	// record before.
	ChainGap ChainKind = "gap"
)

// ChainKinds lists every ChainKind, for metrics.
func ChainKinds() []ChainKind {
	return []ChainKind{ChainForeign, ChainEdited, ChainRestart, ChainGap}
}

// ChainProblem is one thing wrong with the chain at sequence Seq (for a
// run of missing records, Seq to Last).
type ChainProblem struct {
	Seq    uint64
	Last   uint64 // the last sequence of a run of missing records; 0 otherwise
	Kind   ChainKind
	Reason string
}

func (p ChainProblem) String() string {
	if p.Last > p.Seq {
		return fmt.Sprintf("seq %d-%d: %s: %s", p.Seq, p.Last, p.Kind, p.Reason)
	}
	return fmt.Sprintf("seq %d: %s: %s", p.Seq, p.Kind, p.Reason)
}

// StoredHash is the hex SHA-256 of a stored message's bytes: what a
// record after a break names as its PrevHash.
func StoredHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// requiredFields are the fields audit-log writes in every record.
var requiredFields = []string{"id", "request_id", "action", "doc_id", "fee", "user_masked", "user_hash", "recorded_at", "prev_hash", "hash"}

// Stored is one record of the chain as read from the stream: its
// sequence, its bytes, the record they decode to and what is wrong with it
// on its own (nil when nothing is).
type Stored struct {
	Seq     uint64
	Data    []byte
	Record  AuditRecord
	Problem *ChainProblem
}

// CheckStored reads the record stored at seq and checks it on its own:
// that audit-log's append path could have written it (ChainForeign) and
// that it matches its hash (ChainEdited).
func CheckStored(seq uint64, data []byte) Stored {
	s := Stored{Seq: seq, Data: data}
	problem := func(kind ChainKind, format string, args ...any) Stored {
		s.Problem = &ChainProblem{Seq: seq, Kind: kind, Reason: fmt.Sprintf(format, args...)}
		return s
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.Record); err != nil {
		return problem(ChainForeign, "unreadable record: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem(ChainForeign, "unreadable record: data after the record")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return problem(ChainForeign, "unreadable record: %v", err)
	}
	var missing []string
	for _, f := range requiredFields {
		v, ok := fields[f]
		if !ok || string(v) == "null" || f != "prev_hash" && string(v) == `""` {
			missing = append(missing, f)
		}
	}
	r := &s.Record
	switch {
	case slices.Contains(missing, "hash"):
		return problem(ChainForeign, "record has no hash: audit-log did not write it")
	case len(missing) > 0:
		return problem(ChainForeign, "record lacks %v: audit-log did not write it", missing)
	case r.Break != nil && (r.Break.Kind != ChainForeign && r.Break.Kind != ChainEdited || r.Break.Seq == 0):
		return problem(ChainForeign, "record names a break audit-log does not write (%+v)", *r.Break)
	case r.Hash != r.ChainHash():
		return problem(ChainEdited, "the content does not match the record's hash")
	}
	if canon, _ := json.Marshal(r); !bytes.Equal(canon, data) {
		return problem(ChainEdited, "the stored bytes are not the record's canonical encoding")
	}
	return s
}

// CheckLink checks how rec, at sequence rec.Seq, links to prev, the record
// stored at the sequence before it (nil when rec is the stream's first
// record or prev is missing: then only a restart can be told):
//   - prev_hash "" after sequence 1 is a restart;
//   - the first record must name no previous hash and no break;
//   - a record after a sound record names its Hash; after a foreign or
//     edited one it names its stored bytes (StoredHash) and the break.
func CheckLink(prev *Stored, rec Stored) *ChainProblem {
	r := rec.Record
	problem := func(kind ChainKind, format string, args ...any) *ChainProblem {
		return &ChainProblem{Seq: rec.Seq, Kind: kind, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case rec.Seq == 1 && (r.PrevHash != "" || r.Break != nil):
		return problem(ChainGap, "the first record names a previous record: records before it were removed")
	case rec.Seq > 1 && r.PrevHash == "":
		return problem(ChainRestart, "prev_hash is empty after the first record: a new chain was started")
	case prev == nil:
		return nil
	case r.Break == nil && r.PrevHash != prev.Record.Hash:
		return problem(ChainGap, "prev_hash does not link to the hash of sequence %d: a record was replaced or removed", prev.Seq)
	case r.Break == nil:
		return nil
	case r.Break.Seq != prev.Seq:
		return problem(ChainForeign, "names a break at sequence %d, not at the record before it (%d)", r.Break.Seq, prev.Seq)
	case prev.Problem == nil:
		return problem(ChainForeign, "names a break at sequence %d, which is a sound record", prev.Seq)
	case r.Break.Kind != prev.Problem.Kind:
		return problem(ChainForeign, "names a break of kind %s at sequence %d, which is %s", r.Break.Kind, prev.Seq, prev.Problem.Kind)
	case r.PrevHash != StoredHash(prev.Data):
		return problem(ChainGap, "prev_hash does not link to the stored bytes of sequence %d, the break it names", prev.Seq)
	}
	return nil
}
