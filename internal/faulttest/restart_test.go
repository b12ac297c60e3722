package faulttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/auditchain"
	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Under load in the restart test: 4 callers, audit writes with fresh
// request ids, each call 1 s; a call may end at most restartSlack after its
// deadline. NATS stays down restartOutage.
const (
	restartWorkers = 4
	restartBudget  = time.Second
	restartSlack   = 250 * time.Millisecond
	restartOutage  = 500 * time.Millisecond
	restartWanted  = 50 // acknowledged writes wanted before the stop and after the restart
)

// restartCall is one audit write under load.
type restartCall struct {
	id    string
	seq   uint64
	start time.Time
	took  time.Duration
	err   error
}

// NATS (one server, its store on disk) is stopped and restarted under a
// steady load of audit writes. Every call either succeeds or fails within
// its deadline (fast when the caller's connection does not buffer while it
// is disconnected); calls resume once the server is back;
// every write acknowledged before or after the restart is stored once, in
// an intact chain.
func TestNATSRestartUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []nats.Option
	}{
		// Publishes while disconnected fail at once.
		{"unbuffered caller", []nats.Option{nats.ReconnectBufSize(-1)}},
		// nats.go's default: requests wait in the reconnect buffer, so a
		// call made during the outage waits for its deadline, not longer.
		{"buffering caller", nil},
	} {
		t.Run(tc.name, func(t *testing.T) { restartUnderLoad(t, tc.opts...) })
	}
}

func restartUnderLoad(t *testing.T, callerOpts ...nats.Option) {
	node := natstest.StartNode(t, secure)
	provision(t, node.URL(), 1)
	r, err := runner.Start(t.Context(), runnerConfig(node.URL(), "audit-log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	nc := meshConn(t, node.URL(), "gateway", callerOpts...)
	var attempts atomic.Int64
	// A short open period: the breaker is not under test, calls resuming is.
	client := gatewayClient(t, nc, rpc.WithAttemptMiddleware(countAttempts(&attempts)),
		rpc.WithBreaker(rpc.BreakerSettings{Failures: 3, OpenFor: 250 * time.Millisecond, HalfOpenCalls: 1}))

	var (
		mu     sync.Mutex
		calls  []restartCall
		acked  atomic.Int64
		stop   = make(chan struct{})
		wg     sync.WaitGroup
		loadAt = time.Now()
	)
	for w := range restartWorkers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := recordOnce(t.Context(), client, fmt.Sprintf("doc-%d-%d", w, i))
				mu.Lock()
				calls = append(calls, c)
				mu.Unlock()
				if c.err == nil {
					acked.Add(1)
				} else {
					time.Sleep(20 * time.Millisecond) // a caller's pause after a failure
				}
			}
		})
	}
	waitAcked := func(n int64, within time.Duration) {
		t.Helper()
		natstest.CheckFor(t, within, 5*time.Millisecond, func() error {
			if got := acked.Load(); got < n {
				return fmt.Errorf("%d writes acknowledged, want %d", got, n)
			}
			return nil
		})
	}
	waitAcked(restartWanted, 10*time.Second)
	stopped := time.Now()
	node.Stop()
	time.Sleep(restartOutage) // the outage itself, not a wait for a condition
	node.Restart()
	restarted := time.Now()
	ackedBefore := acked.Load()
	waitAcked(ackedBefore+restartWanted, 20*time.Second)
	close(stop)
	wg.Wait()

	var (
		ok, failed, late, failedFast, breaker int
		after                                 time.Duration = -1
		maxOver                               time.Duration
		took                                  latency
		codes                                 = map[rpc.Code]int{}
	)
	for _, c := range calls {
		took = append(took, c.took)
		maxOver = max(maxOver, c.took-restartBudget)
		if c.took > restartBudget+restartSlack {
			late++
			t.Errorf("call %s took %v: past its %v deadline by more than %v (%v)", c.id, c.took, restartBudget, restartSlack, c.err)
		}
		if c.err != nil {
			failed++
			codes[rpc.CodeOf(c.err)]++
			if c.took < 50*time.Millisecond {
				failedFast++
			}
			if errors.Is(c.err, rpc.ErrBreakerOpen) {
				breaker++
			}
			continue
		}
		ok++
		if c.start.After(restarted) {
			if d := c.start.Add(c.took).Sub(restarted); after < 0 || d < after {
				after = d
			}
		}
	}
	t.Logf("%d calls in %v (%d callers, %v each), NATS down %v: %d acknowledged, %d failed (%d within 50 ms, %d refused by the open breaker; by code %v), %d past deadline+%v; %d client attempts",
		len(calls), time.Since(loadAt).Round(time.Millisecond), restartWorkers, restartBudget, restarted.Sub(stopped).Round(time.Millisecond),
		ok, failed, failedFast, breaker, codes, late, restartSlack, attempts.Load())
	t.Logf("latency %s; longest call past its deadline by %v; first acknowledgement %v after the restart",
		took, maxOver.Round(time.Millisecond), after.Round(time.Millisecond))

	// Every acknowledged write is stored once, in an intact chain.
	js, err := jetstream.New(meshConn(t, node.URL(), "audit-log"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := auditchain.Verify(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	var writes []auditWrite
	for _, c := range calls {
		w := auditWrite{id: c.id, seq: c.seq}
		if c.err == nil {
			w.acked = c.start.Add(c.took)
		}
		writes = append(writes, w)
	}
	lost, dup := compare(writes, readAudit(t, node.URL(), report.LastSeq))
	t.Logf("AUDIT: %d records for %d acknowledged writes: %d lost, %d request ids stored twice; chain intact: %v",
		report.Count, ok, lost, dup, report.OK())
	if lost != 0 || dup != 0 || !report.OK() {
		t.Errorf("%d lost, %d duplicated:\n%s", lost, dup, report)
	}
}

// recordOnce makes one audit write with a fresh request id and a
// restartBudget deadline.
func recordOnce(ctx context.Context, client *rpc.Client, docID string) restartCall {
	c := restartCall{id: uuid.NewString(), start: time.Now()}
	ctx, cancel := context.WithTimeout(rpc.WithRequestID(ctx, c.id), restartBudget)
	defer cancel()
	var rep booths.RecordReply
	c.err = client.Call(ctx, "audit-log", "/record", booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: docID}, &rep)
	c.took, c.seq = time.Since(c.start), rep.Seq
	return c
}
