package rpc

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/wait"
)

// run runs the handler for a call whose claim n this run holds, and
// settles it: it keeps the answer, or releases the call when it may be run
// again.
func (d *deduper) run(ctx context.Context, key string, n int, mine *dedupEntry, next Endpoint, req *Message) (res *Message, err error) {
	settled := false
	defer func() {
		if !settled { // the handler panicked; the recoverer answers
			d.release(ctx, key, n, mine)
		}
	}()
	res, err = next(ctx, req)
	settled = true
	if err != nil && !CodeOf(err).IsCallerMistake() {
		d.release(ctx, key, n, mine)
		return res, err
	}
	d.keep(ctx, key, mine, res, err)
	return res, err
}

// keep stores the answer of a run as the call's answer entry.
func (d *deduper) keep(ctx context.Context, key string, mine *dedupEntry, res *Message, err error) {
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
	if werr := d.settle(ctx, key, value); errors.Is(werr, jetstream.ErrKeyExists) {
		d.log.Error("dedup: another instance took this call over and answered first: its effect may be repeated",
			"service", d.service, "path", d.path, "key", key)
	} else if werr != nil {
		d.log.Error("dedup: answer not kept: a retry after the lease may run the call again",
			"service", d.service, "path", d.path, "key", key, "error", werr)
	}
}

// release writes the claim after a run's own as released, so that a retry
// may run the call again; if another instance took the call over first,
// that claim is already its.
func (d *deduper) release(ctx context.Context, key string, n int, mine *dedupEntry) {
	gone := &dedupEntry{State: dedupReleased, SHA256: mine.SHA256, Caller: mine.Caller, Owner: d.owner}
	value, err := gone.encode()
	if err == nil {
		err = d.settle(ctx, claimKey(key, n+1), value)
	}
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		d.log.Warn("dedup: call not released: a retry waits for its lease", "service", d.service,
			"path", d.path, "key", key, "error", err)
	}
}

// settle creates the entry that settles a run, retrying for up to
// dedupStoreTimeout while the store does not answer. It returns
// jetstream.ErrKeyExists when another run wrote that entry first.
func (d *deduper) settle(ctx context.Context, key string, value []byte) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dedupStoreTimeout)
	defer cancel()
	for {
		_, err := d.kv.Create(sctx, key, value)
		if err == nil || errors.Is(err, jetstream.ErrKeyExists) || !wait.Sleep(sctx, 20*time.Millisecond) {
			return err
		}
	}
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
