package faulttest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sony/gobreaker/v2"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// The failover run: 20 writers, each call with 30 s in attempts of 12 s,
// the leader crashed after 100 acknowledgements, the run ending 200
// acknowledgements after the crash. An attempt covers an election (4-9 s
// after a crash) while audit-log waits for the new leader; a request lost
// with the crashed node's connections is sent again after its attempt,
// with the same request id.
const (
	failoverWriters  = 20
	failoverDeadline = 30 * time.Second
	failoverAttempt  = 12 * time.Second
	failoverAfter    = 100
	failoverPast     = 200
)

// The AUDIT stream leader crashes (cut off, then stopped: nothing handed
// over) under 20 writers on a 3-node cluster. audit-log waits for the new
// leader within each caller's 30 s, retrying with the same message id, so
// no call fails, the adaptive breaker (left on) never opens, and the
// longest time without a successful write is the failover's. Every
// acknowledged write is read back from every node: none lost, none stored
// twice.
func TestAuditRidesThroughALeaderCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("a crashed leader is replaced after a Raft election timeout (4-9 s): skipped with -short")
	}
	c, faults := natstest.StartFaultyCluster(t, 3, secure)
	nc := meshConn(t, c.URLs(), "gateway")
	startAuditLogs(t, c.URLs(), "audit-1", "audit-2")
	var opened atomic.Int64
	client := gatewayClient(t, nc, rpc.WithAttemptTimeout(failoverAttempt),
		rpc.WithBreaker(rpc.BreakerSettings{Failures: rpc.DefaultBreakerFailures, OpenFor: rpc.DefaultBreakerOpenFor,
			MinOpenFor: rpc.DefaultBreakerMinOpen, HalfOpenCalls: rpc.DefaultBreakerHalfOpens,
			OnStateChange: func(_ string, _, to gobreaker.State) {
				if to == gobreaker.StateOpen {
					opened.Add(1)
				}
			}}))

	var (
		acked  atomic.Int64
		stop   = make(chan struct{})
		writes = make([][]auditWrite, failoverWriters)
		failed = make([][]error, failoverWriters)
		wg     sync.WaitGroup
	)
	for w := range failoverWriters {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				aw := auditWrite{id: uuid.NewString(), calls: 1, started: time.Now()}
				ctx, cancel := context.WithTimeout(rpc.WithRequestID(t.Context(), aw.id), failoverDeadline)
				var rep booths.RecordReply
				err := client.Call(ctx, "audit-log", "/record",
					booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: fmt.Sprintf("doc-%d-%d", w, i)}, &rep)
				cancel()
				if err != nil {
					failed[w] = append(failed[w], err)
					continue
				}
				aw.seq, aw.acked = rep.Seq, time.Now()
				writes[w] = append(writes[w], aw)
				acked.Add(1)
			}
		})
	}
	natstest.CheckFor(t, 30*time.Second, time.Millisecond, func() error {
		if n := acked.Load(); n < failoverAfter {
			return fmt.Errorf("%d writes acknowledged", n)
		}
		return nil
	})
	leader := c.StreamLeader(booths.AuditStream)
	if leader < 0 {
		t.Fatal("AUDIT has no leader in the middle of the run")
	}
	fault := time.Now()
	faults.Isolate(leader)
	st, err := c.StreamState(leader, booths.AuditStream)
	if err != nil {
		t.Fatal(err)
	}
	faults.Crash(leader)
	atFault := acked.Load()
	natstest.CheckFor(t, 40*time.Second, 5*time.Millisecond, func() error {
		if n := acked.Load() - atFault; n < failoverPast {
			return fmt.Errorf("%d writes acknowledged since the crash", n)
		}
		return nil
	})
	close(stop)
	wg.Wait()

	var all []auditWrite
	var errs []error
	for w := range failoverWriters {
		all = append(all, writes[w]...)
		errs = append(errs, failed[w]...)
	}
	failover, gap := time.Duration(-1), time.Duration(0)
	var ackTimes []time.Time
	for _, w := range all {
		ackTimes = append(ackTimes, w.acked)
		if d := w.acked.Sub(fault); w.seq > st.LastSeq && (failover < 0 || d < failover) {
			failover = d
		}
	}
	slices.SortFunc(ackTimes, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(ackTimes); i++ {
		gap = max(gap, ackTimes[i].Sub(ackTimes[i-1]))
	}
	t.Logf("leader crash under %d writers: %d calls, %d failed; failover (crash to the first ack of a record stored after it) %v; longest gap between successful writes %v; breaker opened %d times",
		failoverWriters, len(all)+len(errs), len(errs), failover.Round(time.Millisecond), gap.Round(time.Millisecond), opened.Load())
	if len(errs) > 0 {
		t.Errorf("%d calls failed, want 0; the first: %v", len(errs), errs[0])
	}
	if failover < 0 {
		t.Fatal("no record stored after the crash was acknowledged")
	}
	if gap > failover+2*time.Second {
		t.Errorf("longest gap between successful writes %v, want at most the failover %v + 2 s", gap, failover)
	}
	if n := opened.Load(); n != 0 {
		t.Errorf("the breaker opened %d times, want never", n)
	}

	faults.Recover(leader)
	c.WaitReady(30 * time.Second)
	checkEveryNode(t, c, all)
}
