package rpc_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

type chargeReq struct {
	Amount int `json:"amount"`
}

type chargeRes struct {
	Txn    string `json:"txn"`
	Amount int    `json:"amount"`
}

// effects counts a handler's runs per request id: its effects.
type effects struct {
	mu   sync.Mutex
	runs map[string]int
}

func (e *effects) add(ctx context.Context) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runs == nil {
		e.runs = map[string]int{}
	}
	e.runs[rpc.RequestID(ctx)]++
	return e.runs[rpc.RequestID(ctx)]
}

func (e *effects) of(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs[id]
}

func (e *effects) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.runs {
		n += r
	}
	return n
}

// dedupStore makes the dedup bucket on s over nc (a new connection when nil).
func dedupStore(t testing.TB, s *server.Server, nc *nats.Conn) jetstream.KeyValue {
	t.Helper()
	if nc == nil {
		nc = natstest.Connect(t, s)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := rpc.EnsureDedupBucket(within(t, 5*time.Second), js, 1, 0)
	if err != nil {
		t.Fatalf("EnsureDedupBucket: %v", err)
	}
	return kv
}

// startDedupBooth runs an instance of service on its own connection, with
// the dedup bucket over that connection.
func startDedupBooth(t testing.TB, s *server.Server, service string, opts ...rpc.BoothOption) *rpc.Booth {
	t.Helper()
	nc := natstest.Connect(t, s)
	opts = append([]rpc.BoothOption{rpc.WithLogger(quiet), rpc.WithDedupStore(dedupStore(t, s, nc))}, opts...)
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: service, Version: "1.0.0"}, opts...)
	if err != nil {
		t.Fatalf("NewBooth(%s): %v", service, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("stopping booth %s: %v", service, err)
		}
	})
	return b
}

// serveCharge serves a NotIdempotent /charge on b that records its effects
// and answers a fresh transaction id; amounts under 1 get a 400.
func serveCharge(t testing.TB, b *rpc.Booth, e *effects, delay time.Duration) {
	t.Helper()
	err := rpc.Handle(b, "/charge", func(ctx context.Context, req *chargeReq) (*chargeRes, error) {
		e.add(ctx)
		if !sleepCtx(ctx, delay) {
			return nil, ctx.Err()
		}
		if req.Amount < 1 {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "amount must be at least 1, got %d", req.Amount)
		}
		return &chargeRes{Txn: uuid.NewString(), Amount: req.Amount}, nil
	}, rpc.NotIdempotent())
	if err != nil {
		t.Fatalf("Handle(/charge): %v", err)
	}
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// invoke calls service path with request id id and returns the reply.
func invoke(client *rpc.Client, ctx context.Context, service, path, id, body string) (*rpc.Message, error) {
	return client.Invoke(ctx, service, path, nats.Header{rpc.HeaderRequestID: []string{id}}, []byte(body))
}

// The same request id twice runs the handler once; the retry gets the
// first answer, marked as replayed, and so does a kept 4xx.
func TestDedupReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	var e effects
	serveCharge(t, startDedupBooth(t, s, "payment"), &e, 0)
	client := newClient(t, s)
	tests := []struct {
		name     string
		body     string
		wantCode rpc.Code
	}{
		{"answer", `{"amount":125}`, rpc.CodeOK},
		{"coded 4xx", `{"amount":0}`, rpc.CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			first, err1 := invoke(client, t.Context(), "payment", "/charge", id, tc.body)
			again, err2 := invoke(client, t.Context(), "payment", "/charge", id, tc.body)
			if got := rpc.CodeOf(err1); got != tc.wantCode {
				t.Fatalf("first call: code %v, want %v (err %v)", got, tc.wantCode, err1)
			}
			if rpc.CodeOf(err2) != tc.wantCode || err1 != nil && rpc.MessageOf(err1) != rpc.MessageOf(err2) {
				t.Errorf("retry: err %v, want the first call's %v", err2, err1)
			}
			if got := e.of(id); got != 1 {
				t.Errorf("handler ran %d times for one request id, want 1", got)
			}
			if tc.wantCode != rpc.CodeOK {
				return
			}
			if string(first.Data) != string(again.Data) {
				t.Errorf("retry got %s, want the first answer %s", again.Data, first.Data)
			}
			if first.Header.Get(rpc.HeaderReplayed) != "" || again.Header.Get(rpc.HeaderReplayed) != "1" {
				t.Errorf("%s: first %q, retry %q; want only the retry marked", rpc.HeaderReplayed,
					first.Header.Get(rpc.HeaderReplayed), again.Header.Get(rpc.HeaderReplayed))
			}
		})
	}
}

// Two instances receive the same request ids at the same time: each id's
// handler runs once in all, and both calls of an id get the same answer.
func TestDedupAcrossInstances(t *testing.T) {
	t.Parallel()
	const ids = 20
	s := natstest.Start(t)
	var e effects
	var delivered [2]atomic.Int64
	for i := range delivered {
		count := func(next rpc.Endpoint) rpc.Endpoint {
			return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
				delivered[i].Add(1)
				return next(ctx, req)
			}
		}
		serveCharge(t, startDedupBooth(t, s, "payment", rpc.WithBoothMiddleware(count)), &e, 20*time.Millisecond)
	}
	client := newClient(t, s, rpc.WithAttemptTimeout(2*time.Second))

	replies := make([][2]string, ids)
	var wg sync.WaitGroup
	for i := range ids {
		id := uuid.NewString()
		for j := range 2 {
			wg.Go(func() {
				res, err := invoke(client, t.Context(), "payment", "/charge", id, `{"amount":125}`)
				if err != nil {
					t.Errorf("id %d call %d: %v", i, j, err)
					return
				}
				replies[i][j] = string(res.Data)
			})
		}
	}
	wg.Wait()
	t.Logf("deliveries per instance: %d and %d; handler runs: %d", delivered[0].Load(), delivered[1].Load(), e.total())
	if got := e.total(); got != ids {
		t.Errorf("handler ran %d times for %d request ids, want %d", got, ids, ids)
	}
	for i, r := range replies {
		if r[0] == "" || r[0] != r[1] {
			t.Errorf("id %d: answers %s and %s, want one answer twice", i, r[0], r[1])
		}
	}
	if delivered[0].Load() == 0 || delivered[1].Load() == 0 {
		t.Errorf("deliveries %d and %d: both instances should have served calls", delivered[0].Load(), delivered[1].Load())
	}
}

// A request id reused with another body, or by another caller, is refused
// with 409 naming the id, and the handler does not run again.
func TestDedupRefusesReusedRequestID(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	var e effects
	serveCharge(t, startDedupBooth(t, s, "payment"), &e, 0)
	gateway := newClient(t, s, rpc.WithCaller("gateway"))
	other := newClient(t, s, rpc.WithCaller("bridge"))
	tests := []struct {
		name   string
		client *rpc.Client
		body   string
		wantIn string
	}{
		{"different body", gateway, `{"amount":126}`, "different body"},
		{"another caller", other, `{"amount":125}`, "another caller"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			if _, err := invoke(gateway, t.Context(), "payment", "/charge", id, `{"amount":125}`); err != nil {
				t.Fatalf("first call: %v", err)
			}
			_, err := invoke(tc.client, t.Context(), "payment", "/charge", id, tc.body)
			if rpc.CodeOf(err) != rpc.CodeConflict || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("reused id: err %v, want a 409 naming %s and %q", err, id, tc.wantIn)
			}
			if got := e.of(id); got != 1 {
				t.Errorf("handler ran %d times, want 1", got)
			}
		})
	}
}

// A duplicate that arrives while the first run is still going waits for
// its answer; one whose deadline comes first gets 409 before it.
func TestDedupDuplicateDuringRun(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startDedupBooth(t, s, "payment")
	var e effects
	started := make(chan string, 4)
	release := make(chan struct{})
	if err := b.HandleRaw("/slow", func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
		e.add(ctx)
		started <- rpc.RequestID(ctx)
		select {
		case <-release:
			return &rpc.Message{Data: []byte(`{"txn":"` + uuid.NewString() + `"}`)}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, rpc.NotIdempotent()); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	// waiting waits until n duplicates watch the pending entry.
	waiting := func(n int) {
		t.Helper()
		natstest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
			st, err := js.Stream(t.Context(), "KV_"+rpc.DedupBucket)
			if err != nil {
				return err
			}
			info, err := st.Info(t.Context())
			if err != nil {
				return err
			}
			if info.State.Consumers != n {
				return fmt.Errorf("%d watchers of the dedup bucket, want %d", info.State.Consumers, n)
			}
			return nil
		})
	}
	type result struct {
		res *rpc.Message
		err error
	}
	call := func(client *rpc.Client, id string) <-chan result {
		ch := make(chan result, 1)
		go func() {
			res, err := invoke(client, context.Background(), "payment", "/slow", id, `{}`)
			ch <- result{res, err}
		}()
		return ch
	}
	patient := newClient(t, s, rpc.WithAttemptTimeout(5*time.Second))
	hasty := newClient(t, s, rpc.WithAttemptTimeout(300*time.Millisecond), rpc.WithRetries(0, 0))

	id := uuid.NewString()
	first := call(patient, id)
	recv(t, started)
	start := time.Now()
	short := recv(t, call(hasty, id))
	if rpc.CodeOf(short.err) != rpc.CodeConflict || !strings.Contains(short.err.Error(), "request "+id+" is still in progress") {
		t.Errorf("duplicate with a shorter deadline: err %v, want 409 naming the request in progress", short.err)
	}
	t.Logf("duplicate with a 300 ms deadline answered after %v", time.Since(start).Round(time.Millisecond))

	waiting(0) // the hasty duplicate's watch is gone
	second := call(patient, id)
	waiting(1)
	close(release)
	a, b2 := recv(t, first), recv(t, second)
	if a.err != nil || b2.err != nil {
		t.Fatalf("first: %v; waiting duplicate: %v", a.err, b2.err)
	}
	if string(a.res.Data) != string(b2.res.Data) || b2.res.Header.Get(rpc.HeaderReplayed) != "1" {
		t.Errorf("waiting duplicate got %s (replayed %q), want the first answer %s replayed",
			b2.res.Data, b2.res.Header.Get(rpc.HeaderReplayed), a.res.Data)
	}
	if got := e.of(id); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}

// A run that fails with a 5xx, an uncoded error or a panic releases its
// entry: a retry with the same id runs the handler again.
func TestDedupRunsAgainAfterFailure(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b := startDedupBooth(t, s, "payment")
	kv := dedupStore(t, s, nil)
	client := newClient(t, s, rpc.WithoutBreaker())
	tests := []struct {
		path     string
		fail     func() error
		wantCode rpc.Code
	}{
		{"/internal", func() error { return rpc.Errorf(rpc.CodeInternal, "bank said no") }, rpc.CodeInternal},
		{"/unavailable", func() error { return rpc.Errorf(rpc.CodeUnavailable, "bank down") }, rpc.CodeUnavailable},
		{"/uncoded", func() error { return errors.New("lost") }, rpc.CodeInternal},
		{"/panic", func() error { panic("bad state") }, rpc.CodeInternal},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			var e effects
			handleOpts(t, b, tc.path, func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
				if e.add(ctx) == 1 {
					return nil, tc.fail()
				}
				return ok()
			}, rpc.NotIdempotent())
			id := uuid.NewString()
			_, err := invoke(client, t.Context(), "payment", tc.path, id, `{}`)
			if got := rpc.CodeOf(err); got != tc.wantCode {
				t.Fatalf("first run: code %v, want %v (err %v)", got, tc.wantCode, err)
			}
			key := "payment." + strings.TrimPrefix(tc.path, "/") + "." + id
			if _, err := kv.Get(t.Context(), key); !errors.Is(err, jetstream.ErrKeyNotFound) {
				t.Errorf("after the failed run, Get(%s) = %v, want ErrKeyNotFound", key, err)
			}
			if _, err := invoke(client, t.Context(), "payment", tc.path, id, `{}`); err != nil {
				t.Errorf("retry: %v", err)
			}
			if got := e.of(id); got != 2 {
				t.Errorf("handler ran %d times, want 2 (the failed run and the retry)", got)
			}
		})
	}
}

// handleOpts serves path on b with endpoint options or fails the test.
func handleOpts(t testing.TB, b *rpc.Booth, path string, h rpc.Endpoint, opts ...rpc.EndpointOption) {
	t.Helper()
	if err := b.HandleRaw(path, h, opts...); err != nil {
		t.Fatalf("HandleRaw(%s): %v", path, err)
	}
}

// pendingEntry is a run's claim in the dedup store as a run that is still
// going (or died) leaves it: one line of JSON and the newline before the
// (empty) body.
func pendingEntry(t testing.TB, body string, lease time.Time) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	return fmt.Appendf(nil, `{"state":"pending","sha256":%q,"owner":"crashed","lease":%q}`+"\n",
		hex.EncodeToString(sum[:]), lease.Format(time.RFC3339Nano))
}

// A pending entry whose lease is over was left by an instance that died:
// a retry takes the call over and runs it. One whose lease still holds
// makes the retry wait, then answer 409.
func TestDedupLeaseTakeover(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	var e effects
	serveCharge(t, startDedupBooth(t, s, "payment"), &e, 0)
	kv := dedupStore(t, s, nil)
	client := newClient(t, s, rpc.WithAttemptTimeout(300*time.Millisecond), rpc.WithRetries(0, 0))
	const body = `{"amount":125}`
	tests := []struct {
		name     string
		lease    time.Time
		wantCode rpc.Code
		wantRuns int
	}{
		{"expired lease", time.Now().Add(-time.Minute), rpc.CodeOK, 1},
		{"live lease", time.Now().Add(time.Minute), rpc.CodeConflict, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			key := "payment.charge." + id
			if _, err := kv.Create(t.Context(), key+".1", pendingEntry(t, body, tc.lease)); err != nil {
				t.Fatal(err)
			}
			_, err := invoke(client, t.Context(), "payment", "/charge", id, body)
			if got := rpc.CodeOf(err); got != tc.wantCode {
				t.Errorf("call: code %v, want %v (err %v)", got, tc.wantCode, err)
			}
			if got := e.of(id); got != tc.wantRuns {
				t.Errorf("handler ran %d times, want %d", got, tc.wantRuns)
			}
			// Taken over, the call has its answer and the taker's claim;
			// else only the crashed run's claim.
			want := map[string]string{key: `{"state":"done"`, key + ".1": `{"state":"pending","sha256"`, key + ".2": `{"state":"pending"`}
			if tc.wantRuns == 0 {
				want = map[string]string{key + ".1": `{"state":"pending"`}
			}
			for _, k := range []string{key, key + ".1", key + ".2"} {
				entry, err := kv.Get(t.Context(), k)
				switch {
				case want[k] == "" && !errors.Is(err, jetstream.ErrKeyNotFound):
					t.Errorf("entry %s after the call: %v, want none", k, err)
				case want[k] != "" && err != nil:
					t.Errorf("entry %s after the call: %v", k, err)
				case want[k] != "" && !strings.HasPrefix(string(entry.Value()), want[k]):
					t.Errorf("entry %s after the call: %.60s..., want it to start %s", k, entry.Value(), want[k])
				}
			}
		})
	}
}

// Calls the endpoint cannot key, and calls a booth middleware refuses,
// leave no entry and do not run the handler.
func TestDedupRefusalsLeaveNoEntry(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	deny := func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			if req.Header.Get("X-Deny") != "" {
				return nil, rpc.Errorf(rpc.CodeUnauthenticated, "payment: unauthenticated call")
			}
			return next(ctx, req)
		}
	}
	var e effects
	serveCharge(t, startDedupBooth(t, s, "payment", rpc.WithBoothMiddleware(deny)), &e, 0)
	kv := dedupStore(t, s, nil)
	nc := natstest.Connect(t, s)
	client := newClient(t, s)
	tests := []struct {
		name     string
		call     func() (rpc.Code, string)
		wantCode rpc.Code
		wantIn   string
	}{
		{"no request id", func() (rpc.Code, string) {
			msg, err := nc.RequestMsg(&nats.Msg{Subject: "svc.payment.charge", Data: []byte(`{"amount":1}`), Header: nats.Header{}}, 2*time.Second)
			if err != nil {
				return rpc.CodeInternal, err.Error()
			}
			code, _ := strconv.Atoi(msg.Header.Get(rpc.HeaderErrorCode))
			return rpc.Code(code), msg.Header.Get(rpc.HeaderError)
		}, rpc.CodeBadRequest, "needs the Svc-Request-Id header"},
		{"request id with a dot", func() (rpc.Code, string) {
			_, err := invoke(client, t.Context(), "payment", "/charge", "a.b", `{"amount":1}`)
			return rpc.CodeOf(err), fmt.Sprint(err)
		}, rpc.CodeBadRequest, "must be 1-128 letters"},
		{"refused by a booth middleware", func() (rpc.Code, string) {
			_, err := client.Invoke(t.Context(), "payment", "/charge", nats.Header{"X-Deny": []string{"1"}}, []byte(`{"amount":1}`))
			return rpc.CodeOf(err), fmt.Sprint(err)
		}, rpc.CodeUnauthenticated, "unauthenticated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := tc.call()
			if code != tc.wantCode || !strings.Contains(msg, tc.wantIn) {
				t.Errorf("got %v %q, want %v naming %q", code, msg, tc.wantCode, tc.wantIn)
			}
		})
	}
	keys, err := kv.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys.Keys() {
		t.Errorf("refused call left entry %s", k)
	}
	if got := e.total(); got != 0 {
		t.Errorf("handler ran %d times, want 0", got)
	}
}

// NotIdempotent needs a dedup store; EnsureDedupBucket refuses what would
// not keep answers long enough.
func TestDedupConfiguration(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	nc := natstest.Connect(t, s)
	b := startBooth(t, s, "payment")
	err := b.HandleRaw("/charge", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() }, rpc.NotIdempotent())
	if !errors.Is(err, rpc.ErrBadOption) || !strings.Contains(err.Error(), "WithDedupStore") {
		t.Errorf("NotIdempotent without a store: %v, want ErrBadOption naming WithDedupStore", err)
	}
	err = b.HandleRaw("/charge", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() }, nil)
	if !errors.Is(err, rpc.ErrBadOption) || !strings.Contains(err.Error(), "endpoint option 0 of /charge is nil") {
		t.Errorf("nil endpoint option: %v, want ErrBadOption naming it", err)
	}

	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		js       jetstream.JetStream
		replicas int
		ttl      time.Duration
		wantIn   string
	}{
		{"nil JetStream", nil, 1, 0, "nil JetStream"},
		{"negative replicas", js, -1, 0, "replicas"},
		{"six replicas", js, 6, 0, "replicas"},
		{"TTL shorter than retries", js, 1, time.Second, "TTL must be at least"},
		{"negative TTL", js, 1, -time.Hour, "TTL must be at least"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kv, err := rpc.EnsureDedupBucket(t.Context(), tc.js, tc.replicas, tc.ttl)
			if !errors.Is(err, rpc.ErrBadOption) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("EnsureDedupBucket = %v, %v; want ErrBadOption naming %q", kv, err, tc.wantIn)
			}
		})
	}
	kv, err := rpc.EnsureDedupBucket(t.Context(), js, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Bucket() != rpc.DedupBucket || st.TTL() != rpc.DefaultDedupTTL || st.History() != 1 {
		t.Errorf("bucket %s, TTL %v, history %d; want %s, %v, 1", st.Bucket(), st.TTL(), st.History(), rpc.DedupBucket, rpc.DefaultDedupTTL)
	}
}
