package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/wait"
)

// DedupLeaseGrace is how long past a pending run's lease (the deadline of
// its ctx) a duplicate waits before it takes the call over and runs the
// handler itself: time for a run whose ctx just ended to store its answer,
// and for clock skew between hosts. Until then a duplicate waits for the
// run's answer.
const DedupLeaseGrace = 200 * time.Millisecond

// dedupStoreTimeout bounds the write that settles a run (its answer, or
// the release of its claim); it is made even past the caller's deadline,
// since the handler's effect happened whether or not the caller still waits.
const dedupStoreTimeout = 5 * time.Second

// deduper gives one NotIdempotent endpoint exactly-once effects per request
// id. A call's key is "<service>.<path tokens>.<request id>".
//
// Every entry is written once (kv.Create), so that the store, written
// once per key (DedupStreamConfig), can refuse anything that would replace
// or erase one. A run first claims the call: it creates the claim
// "<key>.<n>" for the first n not yet used, holding the body's SHA-256 and
// a lease, the deadline of its ctx. Only one run can create a claim. It
// then runs the handler. An answer or a coded 4xx is kept as the entry at
// "<key>" (done) before it is sent; a 5xx, an uncoded error or a panic
// writes claim n+1 as released, so that a retry runs again.
//
// A duplicate whose claim is refused looks for the answer and replays it;
// else it reads the last claim: released, it claims the next n; pending, it
// watches the call's keys until something is written, takes the call over
// (claims the next n) once the lease and DedupLeaseGrace are over (the
// instance running it died), or answers 409 shortly before its own
// deadline.
type deduper struct {
	kv       jetstream.KeyValue
	service  string
	path     string
	prefix   string // "<service>.<path tokens>."
	owner    string
	maxValue int // the largest value the store takes
	log      *slog.Logger
}

func newDeduper(b *Booth, segs []string) *deduper {
	return &deduper{
		kv: b.opts.dedup, service: b.name, path: "/" + strings.Join(segs, "/"),
		prefix: b.name + "." + strings.Join(segs, ".") + ".", owner: b.instance,
		// Leave room for the subject and headers of the store's message.
		maxValue: int(b.nc.MaxPayload()) - 4096,
		log:      b.opts.log,
	}
}

func (d *deduper) middleware(next Endpoint) Endpoint {
	return func(ctx context.Context, req *Message) (*Message, error) {
		id := req.Header.Get(HeaderRequestID)
		if err := d.checkID(id); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(req.Data)
		mine := &dedupEntry{State: dedupPending, SHA256: hex.EncodeToString(sum[:]),
			Caller: callerOf(ctx), Owner: d.owner, Lease: leaseOf(ctx)}
		key := d.prefix + id
		n, res, err := d.claim(ctx, key, id, mine)
		if n == 0 {
			return res, err
		}
		return d.run(ctx, key, n, mine, next, req)
	}
}

// checkID refuses a request id that cannot key an entry.
func (d *deduper) checkID(id string) error {
	if id == "" {
		return Errorf(CodeBadRequest, "%s %s is not idempotent: it needs the %s header (the idempotency key)", d.service, d.path, HeaderRequestID)
	}
	if !validRequestID(id) {
		return Errorf(CodeBadRequest, "%s %s: header %s must be 1-128 letters, digits, '-' or '_'", d.service, d.path, HeaderRequestID)
	}
	return nil
}

// claimKey is the key of a call's n-th claim.
func claimKey(key string, n int) string { return key + "." + strconv.Itoa(n) }

// claim makes the call this run's: it creates the call's next claim, as
// its first run or taking over from one that died or gave it up. It
// returns the claim's number, or 0 and what to answer instead: the kept
// answer, a conflict, or the store's failure.
func (d *deduper) claim(ctx context.Context, key, id string, mine *dedupEntry) (int, *Message, error) {
	pending, err := mine.encode()
	if err != nil {
		return 0, nil, Errorf(CodeInternal, "%s %s: encoding dedup entry: %v", d.service, d.path, err)
	}
	giveUp := giveUpAt(ctx)
	var from *dedupEntry // the run this claim takes over, if any
	for n := 1; ; {
		_, err := d.kv.Create(ctx, claimKey(key, n), pending)
		if err == nil {
			if from != nil {
				d.log.Warn("dedup: took over a call whose run's lease expired", "service", d.service, "path", d.path,
					"request_id", id, "previous_owner", from.Owner, "lease", from.Lease)
			}
			return n, nil, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, nil, d.storeError(ctx, err)
		}
		if res, err, answered := d.answer(ctx, key, id, mine); answered {
			return 0, res, err
		}
		last, rev, got, err := d.lastClaim(ctx, key, n)
		if err != nil {
			return 0, nil, err
		}
		from = nil
		switch {
		case got == nil: // it ended with the store's TTL meanwhile
			continue
		case got.State == dedupReleased: // its run failed: run it again
			n = last + 1
			continue
		}
		if err := conflict(got, mine, id); err != nil {
			return 0, nil, err
		}
		takeover := got.Lease.Add(DedupLeaseGrace)
		if !time.Now().Before(takeover) {
			n, from = last+1, got
			continue
		}
		if !time.Now().Before(giveUp) {
			return 0, nil, Errorf(CodeConflict, "request %s is still in progress: retry later with the same request id", id)
		}
		until := takeover
		if giveUp.Before(until) {
			until = giveUp
		}
		d.waitChange(ctx, key, rev, until)
		n = last
	}
}

// answer returns the answer kept for the call, if there is one (answered
// true): its replay, or a conflict when this call is not a retry of it.
func (d *deduper) answer(ctx context.Context, key, id string, mine *dedupEntry) (*Message, error, bool) {
	kve, err := d.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil, false
	}
	if err != nil {
		return nil, d.storeError(ctx, err), true
	}
	done, err := decodeDedupEntry(kve.Value())
	switch {
	case err != nil:
		return nil, Errorf(CodeInternal, "%s %s: dedup entry of request %s is unreadable: %v", d.service, d.path, id, err), true
	case done.State != dedupDone:
		return nil, Errorf(CodeInternal, "%s %s: dedup entry of request %s is %s, not an answer", d.service, d.path, id, done.State), true
	}
	if err := conflict(done, mine, id); err != nil {
		return nil, err, true
	}
	res, err := done.reply()
	return res, err, true
}

// conflict refuses a call that reuses the request id of another: another
// body, or another caller.
func conflict(first, mine *dedupEntry, id string) error {
	switch {
	case first.SHA256 != mine.SHA256:
		return Errorf(CodeConflict, "request id %s was already used with a different body: use a new request id for a new call", id)
	case first.Caller != mine.Caller:
		return Errorf(CodeConflict, "request id %s was already used by another caller", id)
	}
	return nil
}

// lastClaim reads the call's claims from number from on and returns the
// last one: its number, revision and entry; a nil entry when claim from no
// longer exists (its TTL ended).
func (d *deduper) lastClaim(ctx context.Context, key string, from int) (int, uint64, *dedupEntry, error) {
	var (
		last int
		rev  uint64
		got  *dedupEntry
	)
	for n := from; ; n++ {
		kve, err := d.kv.Get(ctx, claimKey(key, n))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return last, rev, got, nil
		}
		if err != nil {
			return 0, 0, nil, d.storeError(ctx, err)
		}
		e, err := decodeDedupEntry(kve.Value())
		if err != nil || e.State == dedupDone {
			return 0, 0, nil, Errorf(CodeInternal, "%s %s: dedup claim %s is unreadable: %v", d.service, d.path, claimKey(key, n), err)
		}
		last, rev, got = n, kve.Revision(), e
	}
}

// waitChange returns once an entry of the call (its answer, or a claim)
// newer than revision rev is written, or at until, or when ctx ends.
func (d *deduper) waitChange(ctx context.Context, key string, rev uint64, until time.Time) {
	wctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	w, err := d.kv.WatchFiltered(wctx, []string{key, key + ".*"}, jetstream.MetaOnly())
	if err != nil {
		if wctx.Err() == nil {
			d.log.Warn("dedup: cannot watch a pending call; polling", "service", d.service, "path", d.path, "key", key, "error", err)
			wait.Sleep(wctx, 10*time.Millisecond)
		}
		return
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok || (e != nil && e.Revision() > rev) {
				return
			}
		case <-wctx.Done():
			return
		}
	}
}

// storeError is the answer when the dedup store fails a call's claim.
func (d *deduper) storeError(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return Errorf(CodeDeadlineExceeded, "%s %s: no answer from the dedup store before the deadline", d.service, d.path)
	}
	return Errorf(CodeUnavailable, "%s %s: %w: dedup store: %v", d.service, d.path, ErrStoreUnavailable, err)
}
