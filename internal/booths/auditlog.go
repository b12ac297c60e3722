package booths

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// AuditStream and AuditSubject are where audit-log appends its records.
const (
	AuditStream  = stores.Audit
	AuditSubject = stores.AuditSubject
)

// DefaultAuditAction is the action of a record that names none.
const DefaultAuditAction = "license-issued"

// AuditDuplicateWindow is how long AuditStream remembers a request id to
// deduplicate a record (its Duplicates window). It must outlast every retry
// of one logical call: audit-log's own retries of an append (at most
// AuditRetryHorizon) and a gateway's retries with the same request id.
const AuditDuplicateWindow = stores.AuditDuplicateWindow

// RecordRequest is audit-log's /record request. User is the applicant's SSN;
// it is never stored.
type RecordRequest struct {
	User   string  `json:"user"`
	Fee    float64 `json:"fee"`
	DocID  string  `json:"doc_id"`
	Action string  `json:"action,omitempty"`
}

// RecordReply is audit-log's /record reply: the record's id and its
// sequence in AuditStream. A retry of the same call gets the same reply.
type RecordReply struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq"`
}

// AuditRecord is what audit-log stores: the SSN only masked and as a keyed
// hash.
type AuditRecord struct {
	ID          string  `json:"id"`
	RequestID   string  `json:"request_id"`
	Caller      string  `json:"caller,omitempty"`
	Traceparent string  `json:"traceparent,omitempty"`
	Action      string  `json:"action"`
	DocID       string  `json:"doc_id"`
	Fee         float64 `json:"fee"`
	UserMasked  string  `json:"user_masked"`
	UserHash    string  `json:"user_hash"`
	RecordedAt  string  `json:"recorded_at"`
	// PrevHash is the Hash of the record before this one in AuditStream,
	// "" for the first: the records form a hash chain. After a break (see
	// Break) it is the StoredHash of the record before.
	PrevHash string `json:"prev_hash"`
	// Break, when set, says the record before this one is not a record of
	// the chain (ChainForeign or ChainEdited): audit-log found it at the
	// tail and continued the chain over it, pinning its stored bytes in
	// PrevHash, rather than linking to a hash it cannot trust.
	Break *ChainBreak `json:"break,omitempty"`
	// Hash is this record's ChainHash.
	Hash string `json:"hash,omitempty"`
}

// ChainBreak names the record a chain continues over: its sequence and
// what is wrong with it.
type ChainBreak struct {
	Seq  uint64    `json:"seq"`
	Kind ChainKind `json:"kind"`
}

// recordInput decodes /record with pointers, to tell a missing field from a
// zero one.
type recordInput struct {
	User   *string  `json:"user"`
	Fee    *float64 `json:"fee"`
	DocID  *string  `json:"doc_id"`
	Action string   `json:"action"`
}

var (
	docIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	actionPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
)

// startAuditLog binds the append-only AUDIT stream and serves /record.
func startAuditLog(ctx context.Context, nc *nats.Conn, cfg Config) (*rpc.Booth, error) {
	if len(cfg.AuditKey) < MinAuditKeyLen {
		return nil, fmt.Errorf("audit-log: the SSN hash key must be at least %d bytes, got %d", MinAuditKeyLen, len(cfg.AuditKey))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	stream, err := stores.Stream(ctx, js, AuditStream, cfg.expect())
	if err != nil {
		return nil, fmt.Errorf("audit-log: %w", err)
	}
	key := append([]byte(nil), cfg.AuditKey...)
	watch, err := newChainWatch(cfg.Metrics, cfg.logger())
	if err != nil {
		return nil, err
	}
	chain := newAuditChain(js, stream, cfg.logger(), watch)
	return newBooth(nc, cfg, "audit-log", "Append-only audit records; SSNs masked and hashed", "/record",
		record(chain, stream, key, cfg.logger()), extras{})
}

func record(chain *auditChain, stream jetstream.Stream, key []byte, log *slog.Logger) rpc.Handler[recordInput, RecordReply] {
	return func(ctx context.Context, in *recordInput) (*RecordReply, error) {
		reqID, err := requireRequestID(ctx, "audit-log")
		if err != nil {
			return nil, err
		}
		if err := checkRecord(in); err != nil {
			return nil, err
		}
		rec := AuditRecord{
			ID: uuid.NewString(), RequestID: reqID, Action: in.Action, DocID: *in.DocID, Fee: *in.Fee,
			UserMasked: maskedSSN(*in.User), UserHash: ssnHash(key, *in.User),
			RecordedAt: time.Now().UTC().Format(time.RFC3339Nano),
		}
		if ci, ok := rpc.CallInfoFromContext(ctx); ok {
			rec.Caller = ci.Caller
			rec.Traceparent = ci.Header.Get(rpc.HeaderTraceparent)
		}
		res, err := chain.append(ctx, &rec)
		if err != nil {
			return nil, err
		}
		if res.duplicate {
			return replayRecord(ctx, stream, res.seq, &rec)
		}
		log.InfoContext(ctx, "audit record stored", "request_id", reqID, "id", rec.ID, "seq", res.seq,
			"doc_id", rec.DocID, "attempts", res.attempts)
		return &RecordReply{ID: rec.ID, Seq: res.seq}, nil
	}
}

// checkRecord refuses a record with a missing or malformed field, naming it.
// It never quotes the user field back: it may be an SSN.
func checkRecord(in *recordInput) error {
	switch {
	case in.User == nil || *in.User == "":
		return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field user is required (the applicant's SSN)")
	case in.DocID == nil || *in.DocID == "":
		return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field doc_id is required")
	case in.Fee == nil:
		return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field fee is required")
	}
	if !ssnPattern.MatchString(*in.User) {
		return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field user must be an SSN: ddd-dd-dddd or 9 digits")
	}
	if !docIDPattern.MatchString(*in.DocID) {
		return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field doc_id must be 1-128 letters, digits, '-' or '_'")
	}
	if *in.Fee != 0 && !validAmount(*in.Fee) {
		return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field fee must be 0 or positive with at most 2 decimals, got %v", *in.Fee)
	}
	if in.Action == "" {
		in.Action = DefaultAuditAction
	}
	if !actionPattern.MatchString(in.Action) {
		return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field action must be lower-case letters, digits and '-'")
	}
	for field, v := range map[string]string{"doc_id": *in.DocID, "action": in.Action} {
		if ssnInside.MatchString(v) {
			return rpc.Errorf(rpc.CodeBadRequest, "audit-log: field %s looks like it holds an SSN; an SSN goes in user only", field)
		}
	}
	return nil
}

// replayRecord answers a request id the stream has already recorded: the
// first record's reply when this one says the same, 409 when it does not.
func replayRecord(ctx context.Context, stream jetstream.Stream, seq uint64, rec *AuditRecord) (*RecordReply, error) {
	msg, err := getStored(ctx, stream, seq)
	if err != nil {
		return nil, storeError(ctx, "audit-log: reading the first record", err)
	}
	var first AuditRecord
	if err := json.Unmarshal(msg.Data, &first); err != nil {
		return nil, rpc.Errorf(rpc.CodeInternal, "audit-log: record %d is unreadable: %w", seq, err)
	}
	if first.RequestID != rec.RequestID || first.UserHash != rec.UserHash || first.DocID != rec.DocID ||
		first.Fee != rec.Fee || first.Action != rec.Action {
		return nil, rpc.Errorf(rpc.CodeConflict,
			"audit-log: request id %s was already used for a different record (seq %d); use a new request id", rec.RequestID, seq)
	}
	return &RecordReply{ID: first.ID, Seq: seq}, nil
}
