package booths

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/wait"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// AuditRetryHorizon is the longest one /record keeps retrying its append
// when JetStream does not confirm it (a timeout is "outcome unknown"; so is
// a stream with no leader during a failover). It stops sooner when the
// caller's deadline passes. AuditDuplicateWindow (10 min) is far longer, so
// a retry can never store a record twice.
const AuditRetryHorizon = 30 * time.Second

// Append timing: each publish waits at most auditAttemptTimeout for its ack;
// failed attempts back off from auditBackoffMin, doubling up to
// auditBackoffMax, jittered.
const (
	auditAttemptTimeout = 500 * time.Millisecond
	auditBackoffMin     = 25 * time.Millisecond
	auditBackoffMax     = 500 * time.Millisecond
)

// auditChain appends records to AuditStream as a hash chain. Each record
// names the hash of the record before it, and its publish says which
// sequence it expects to follow (Nats-Expected-Last-Subject-Sequence): when
// another instance appended first, JetStream refuses it and the chain
// re-reads the tail and tries again. Appends of one instance take turns, so
// they do not race each other; the tail of its last append is kept, so an
// instance appending alone reads nothing before it publishes.
//
// Each time it reads the tail, it checks it as the verifier does (see
// checkTail) and reports what is wrong (chainWatch). It appends on a broken
// chain rather than refuse: a refusal would let anyone who can publish one
// record on the audit subject stop every license being issued, and would
// keep nothing that appending loses. A record after a tail it cannot link
// to by hash (foreign or edited) names the break (Break) and pins the
// tail's stored bytes (PrevHash is their StoredHash), so the chain's
// integrity resumes right after the break, which stays in the stream for
// the verifier to report.
type auditChain struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	log    *slog.Logger
	watch  *chainWatch

	turn chan struct{} // holds a token while an append runs

	// The tail as this instance last saw it; read and written only while
	// holding turn. tailHash is what the next record names as PrevHash,
	// tailBreak the break it names, if any.
	tailKnown bool
	tailSeq   uint64
	tailHash  string
	tailBreak *ChainBreak
}

func newAuditChain(js jetstream.JetStream, stream jetstream.Stream, log *slog.Logger, watch *chainWatch) *auditChain {
	return &auditChain{js: js, stream: stream, log: log, watch: watch, turn: make(chan struct{}, 1)}
}

// appended is the outcome of an append: the record's sequence, and whether
// JetStream already held a record under its request id (then seq is that
// record's).
type appended struct {
	seq       uint64
	duplicate bool
	attempts  int
}

// append links rec to the tail (setting PrevHash and Hash) and stores it
// under its request id as Nats-Msg-Id, retrying until JetStream confirms it,
// refuses it, or the deadline (the caller's, at most AuditRetryHorizon)
// passes. Every retry carries the same Nats-Msg-Id, so a publish whose ack
// was lost is not stored twice. Errors are *rpc.Error.
func (c *auditChain) append(ctx context.Context, rec *AuditRecord) (appended, error) {
	hctx, cancel := context.WithDeadline(ctx, retryUntil(ctx, AuditRetryHorizon))
	defer cancel()
	select {
	case c.turn <- struct{}{}:
		defer func() { <-c.turn }()
	case <-hctx.Done():
		return appended{}, c.giveUp(ctx, 0, hctx.Err())
	}
	var last error
	for attempt := 1; ; attempt++ {
		res, err := c.try(hctx, rec)
		if err == nil {
			res.attempts = attempt
			if attempt > 1 {
				c.log.Info("audit append confirmed after retries", "request_id", rec.RequestID, "attempts", attempt, "seq", res.seq)
			}
			return res, nil
		}
		last = err
		kind := classifyAppend(err)
		if kind == appendRefused {
			return appended{}, rpc.Errorf(rpc.CodeInternal, "audit-log: JetStream refused the record: %w", err)
		}
		if hctx.Err() != nil {
			return appended{}, c.giveUp(ctx, attempt, last)
		}
		if kind == appendTailMoved && attempt < 3 {
			continue // another instance appended: link to the new tail now
		}
		c.log.Debug("audit append not confirmed; retrying with the same message id",
			"request_id", rec.RequestID, "attempt", attempt, "error", err)
		if !wait.Sleep(hctx, backoff(attempt)) {
			return appended{}, c.giveUp(ctx, attempt, last)
		}
	}
}

// try makes one attempt: it reads the tail unless known, links rec to it
// and publishes.
func (c *auditChain) try(ctx context.Context, rec *AuditRecord) (appended, error) {
	if !c.tailKnown {
		if err := c.readTail(ctx); err != nil {
			return appended{}, err
		}
	}
	rec.PrevHash, rec.Break = c.tailHash, c.tailBreak
	rec.Hash = rec.ChainHash()
	data, err := json.Marshal(rec)
	if err != nil {
		return appended{}, errors.Join(errUnencodable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, auditAttemptTimeout)
	defer cancel()
	ack, err := c.js.PublishMsg(pctx, &nats.Msg{Subject: AuditSubject, Data: data},
		jetstream.WithMsgID(rec.RequestID),
		jetstream.WithExpectStream(AuditStream),
		jetstream.WithExpectLastSequencePerSubject(c.tailSeq),
		jetstream.WithRetryAttempts(0)) // retries are ours, with backoff
	if err != nil {
		// Whatever happened, the tail may have moved: read it again.
		c.tailKnown = false
		return appended{}, err
	}
	if ack.Duplicate {
		// The record under this id is an earlier one, maybe not the tail.
		c.tailKnown = false
		return appended{seq: ack.Sequence, duplicate: true}, nil
	}
	c.tailSeq, c.tailHash, c.tailBreak = ack.Sequence, rec.Hash, nil
	return appended{seq: ack.Sequence}, nil
}

// giveUp is the error of an append that ran out of time: 504 when the
// caller's deadline passed, 503 otherwise. Either way its outcome is
// unknown, and a retry with the same request id is safe.
func (c *auditChain) giveUp(ctx context.Context, attempts int, last error) error {
	if ctx.Err() != nil {
		return rpc.Errorf(rpc.CodeDeadlineExceeded,
			"audit-log: record not confirmed by JetStream before the deadline (%d attempts): retry with the same request id", attempts)
	}
	return rpc.Errorf(rpc.CodeUnavailable,
		"audit-log: %w: record not confirmed by JetStream in time (%d attempts, last: %v): retry with the same request id",
		rpc.ErrStoreUnavailable, attempts, last)
}

// appendFailure says what a failed attempt means for the next one.
type appendFailure int

const (
	// appendUnknown: the record may or may not be stored (timeout, no
	// stream leader, connection lost): retry with the same message id.
	appendUnknown appendFailure = iota
	// appendTailMoved: another record was appended first; nothing was
	// stored: link to the new tail and retry.
	appendTailMoved
	// appendRefused: JetStream will never store this record as it is.
	appendRefused
)

var errUnencodable = errors.New("record cannot be encoded")

func classifyAppend(err error) appendFailure {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, errUnencodable), errors.Is(err, nats.ErrConnectionClosed):
		return appendRefused
	case errors.As(err, &apiErr):
		switch {
		case apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence,
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant:
			return appendTailMoved
		case apiErr.Code == 409 || apiErr.Code >= 500:
			// 409: an earlier attempt with this id is still being stored.
			return appendUnknown
		}
		return appendRefused
	}
	return appendUnknown
}

// backoff is the jittered wait before retry n+1: in [b/2, b] for
// b = auditBackoffMin * 2^(n-1), at most auditBackoffMax.
func backoff(n int) time.Duration {
	b := auditBackoffMax
	if n < 6 {
		b = min(auditBackoffMin<<(n-1), auditBackoffMax)
	}
	return wait.Jitter(b)
}

// getStored reads the record at seq. A replica answering the read may not
// have it yet right after the leader confirmed it, so a missing record is
// looked for again until ctx ends.
func getStored(ctx context.Context, stream jetstream.Stream, seq uint64) (*jetstream.RawStreamMsg, error) {
	for n := 1; ; n++ {
		msg, err := stream.GetMsg(ctx, seq)
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return msg, err
		}
		if !wait.Sleep(ctx, backoff(n)) {
			return nil, fmt.Errorf("record %d not found: %w", seq, err)
		}
	}
}
