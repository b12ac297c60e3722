package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
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
// the release of its entry); it is made even past the caller's deadline,
// since the handler's effect happened whether or not the caller still waits.
const dedupStoreTimeout = 5 * time.Second

// deduper gives one NotIdempotent endpoint exactly-once effects per request
// id. Its entries are keyed "<service>.<path tokens>.<request id>".
//
// A call creates a pending entry (kv.Create: only one run can) holding the
// body's SHA-256 and a lease, the deadline of its ctx, then runs the
// handler. An answer or a coded 4xx is stored over it ("done", kv.Update on
// the entry's revision) before it is sent; a 5xx, an uncoded error or a
// panic deletes the entry (on its revision), so that a retry runs again. A
// duplicate that finds a done entry replays it; one that finds a pending
// entry watches it until it is done or deleted, takes it over (kv.Update on
// its revision) once its lease and DedupLeaseGrace are over (the instance
// running it died), or answers 409 shortly before its own deadline.
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
		rev, res, err := d.claim(ctx, key, id, mine)
		if rev == 0 {
			return res, err
		}
		return d.run(ctx, key, rev, mine, next, req)
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

// claim makes the call this run's: it creates the pending entry, or takes
// over one whose run died. It returns the entry's revision, or 0 and what
// to answer instead: the kept answer, a conflict, or the store's failure.
func (d *deduper) claim(ctx context.Context, key, id string, mine *dedupEntry) (uint64, *Message, error) {
	pending, err := mine.encode()
	if err != nil {
		return 0, nil, Errorf(CodeInternal, "%s %s: encoding dedup entry: %v", d.service, d.path, err)
	}
	giveUp := giveUpAt(ctx)
	for {
		rev, err := d.kv.Create(ctx, key, pending)
		if err == nil {
			return rev, nil, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, nil, d.storeError(ctx, err)
		}
		kve, err := d.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // its run failed and released it meanwhile
		}
		if err != nil {
			return 0, nil, d.storeError(ctx, err)
		}
		first, err := decodeDedupEntry(kve.Value())
		switch {
		case err != nil:
			return 0, nil, Errorf(CodeInternal, "%s %s: dedup entry of request %s is unreadable: %v", d.service, d.path, id, err)
		case first.SHA256 != mine.SHA256:
			return 0, nil, Errorf(CodeConflict, "request id %s was already used with a different body: use a new request id for a new call", id)
		case first.Caller != mine.Caller:
			return 0, nil, Errorf(CodeConflict, "request id %s was already used by another caller", id)
		case first.State == dedupDone:
			res, err := first.reply()
			return 0, res, err
		}
		takeover := first.Lease.Add(DedupLeaseGrace)
		if !time.Now().Before(takeover) {
			rev, err := d.kv.Update(ctx, key, pending, kve.Revision())
			if err == nil {
				d.log.Warn("dedup: took over a call whose run's lease expired", "service", d.service, "path", d.path,
					"request_id", id, "previous_owner", first.Owner, "lease", first.Lease)
				return rev, nil, nil
			}
			if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				continue
			}
			return 0, nil, d.storeError(ctx, err)
		}
		if !time.Now().Before(giveUp) {
			return 0, nil, Errorf(CodeConflict, "request %s is still in progress: retry later with the same request id", id)
		}
		until := takeover
		if giveUp.Before(until) {
			until = giveUp
		}
		d.waitChange(ctx, key, kve.Revision(), until)
	}
}

// waitChange returns once the entry at key has another revision than rev,
// or at until, or when ctx ends.
func (d *deduper) waitChange(ctx context.Context, key string, rev uint64, until time.Time) {
	wctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	w, err := d.kv.Watch(wctx, key, jetstream.MetaOnly())
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
			if !ok || (e != nil && e.Revision() != rev) {
				return
			}
		case <-wctx.Done():
			return
		}
	}
}

// run runs the handler for a claimed call and settles the entry: it keeps
// the answer, or releases the entry when the call may be run again.
func (d *deduper) run(ctx context.Context, key string, rev uint64, mine *dedupEntry, next Endpoint, req *Message) (res *Message, err error) {
	settled := false
	defer func() {
		if !settled { // the handler panicked; the recoverer answers
			d.release(ctx, key, rev)
		}
	}()
	res, err = next(ctx, req)
	settled = true
	if err != nil && !CodeOf(err).IsCallerMistake() {
		d.release(ctx, key, rev)
		return res, err
	}
	d.keep(ctx, key, rev, mine, res, err)
	return res, err
}

// keep stores the answer of a run over its pending entry.
func (d *deduper) keep(ctx context.Context, key string, rev uint64, mine *dedupEntry, res *Message, err error) {
	done := &dedupEntry{State: dedupDone, SHA256: mine.SHA256, Caller: mine.Caller, Owner: d.owner}
	if res != nil {
		done.Header, done.data = res.Header, res.Data
	}
	if err != nil {
		done.Code, done.Message = CodeOf(err), MessageOf(err)
	}
	value, eerr := done.encode()
	if eerr == nil && len(value) > d.maxValue {
		// Keep that the call ran, so that a retry does not run it again.
		done = &dedupEntry{State: dedupDone, SHA256: mine.SHA256, Caller: mine.Caller, Owner: d.owner,
			Code: CodeInternal, Message: "the call ran, but its answer was too large to keep for a retry"}
		value, eerr = done.encode()
	}
	if eerr != nil {
		d.log.Error("dedup: answer not kept: cannot encode it", "service", d.service, "path", d.path, "key", key, "error", eerr)
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dedupStoreTimeout)
	defer cancel()
	for {
		_, uerr := d.kv.Update(sctx, key, value, rev)
		switch {
		case uerr == nil:
			return
		case errors.Is(uerr, jetstream.ErrKeyRevisionMismatch):
			d.log.Error("dedup: another instance took this call over while it ran: its effect may be repeated",
				"service", d.service, "path", d.path, "key", key)
			return
		case !wait.Sleep(sctx, 20*time.Millisecond):
			d.log.Error("dedup: answer not kept: a retry after the lease may run the call again",
				"service", d.service, "path", d.path, "key", key, "error", uerr)
			return
		}
	}
}

// release deletes a run's pending entry, if it is still the run's, so that
// a retry may run the call again.
func (d *deduper) release(ctx context.Context, key string, rev uint64) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dedupStoreTimeout)
	defer cancel()
	if err := d.kv.Delete(sctx, key, jetstream.LastRevision(rev)); err != nil {
		d.log.Warn("dedup: pending entry not released: a retry waits for its lease", "service", d.service,
			"path", d.path, "key", key, "error", err)
	}
}

// storeError is the answer when the dedup store fails a call's claim.
func (d *deduper) storeError(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return Errorf(CodeDeadlineExceeded, "%s %s: no answer from the dedup store before the deadline", d.service, d.path)
	}
	return Errorf(CodeUnavailable, "%s %s: dedup store: %v", d.service, d.path, err)
}

// leaseOf is the lease of a run: its ctx's deadline (the booth always sets
// one).
func leaseOf(ctx context.Context) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(DefaultBoothTimeout)
}

// giveUpAt is when a duplicate stops waiting for the run it found, so that
// its 409 reaches the caller before the caller's deadline: a tenth of the
// time left, at least 1 ms and at most 50 ms, before that deadline.
func giveUpAt(ctx context.Context) time.Time {
	dl := leaseOf(ctx)
	margin := min(max(time.Until(dl)/10, time.Millisecond), 50*time.Millisecond)
	return dl.Add(-margin)
}

// callerOf returns the caller of the call a booth serves: the authenticated
// identity once authentication ran, else the caller's claim.
func callerOf(ctx context.Context) string {
	if ci, ok := CallInfoFromContext(ctx); ok {
		return ci.Caller
	}
	return ""
}

// validRequestID reports whether id can key a dedup entry: 1-128 letters,
// digits, '-' or '_' (a UUID passes).
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
