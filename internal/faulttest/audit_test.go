package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// The audit burst: 4 writers, 75 records each, the fault after 100
// acknowledgements. Each call has 3 s (attempts of 1 s, retried by the
// client); a write that fails with 503 or 504 is called again with the same
// request id, as a gateway does, for up to 30 s.
const (
	auditWriters    = 4
	auditPerWriter  = 75
	auditFaultAfter = 100
	auditCallBudget = 3 * time.Second
	auditWriteLimit = 30 * time.Second
)

// auditWrite is one logical audit write: its request id and, once
// acknowledged, its sequence.
type auditWrite struct {
	id      string
	seq     uint64
	calls   int       // calls made, the gateway's retries included
	started time.Time // start of the call that was acknowledged
	acked   time.Time // zero if never acknowledged
	errs    []error
}

// The AUDIT stream leader, or a follower, goes down during a burst of audit
// writes on a 3-node cluster (AUDIT has 3 replicas, every write synced).
// Every acknowledged write is then read back from every node: none lost,
// none stored twice, the nodes hold the same records, the chain is whole.
func TestAuditSurvivesNodeLoss(t *testing.T) {
	for _, tc := range []struct {
		name   string
		leader bool // the stream leader goes down, else a follower
		crash  bool // cut off first, so nothing is handed over; else a clean shutdown
	}{
		{"leader crash", true, true},
		{"leader shutdown", true, false},
		{"follower crash", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.crash && tc.leader && testing.Short() {
				t.Skip("a crashed leader is replaced after a Raft election timeout (4-9 s): skipped with -short")
			}
			c, faults := natstest.StartFaultyCluster(t, 3, secure)
			nc := meshConn(t, c.URLs(), "gateway")
			startAuditLogs(t, c.URLs(), "audit-1", "audit-2")
			var attempts atomic.Int64
			client := gatewayClient(t, nc, rpc.WithAttemptTimeout(time.Second),
				rpc.WithoutBreaker(), rpc.WithAttemptMiddleware(countAttempts(&attempts)))
			var acked atomic.Int64
			writes := make([][]auditWrite, auditWriters)
			var wg sync.WaitGroup
			for w := range auditWriters {
				wg.Go(func() {
					for i := range auditPerWriter {
						req := booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: fmt.Sprintf("doc-%d-%d", w, i)}
						aw := recordUntilAcked(t.Context(), client, req)
						if !aw.acked.IsZero() {
							acked.Add(1)
						}
						writes[w] = append(writes[w], aw)
					}
				})
			}
			natstest.CheckFor(t, 30*time.Second, time.Millisecond, func() error {
				if n := acked.Load(); n < auditFaultAfter {
					return fmt.Errorf("%d writes acknowledged", n)
				}
				return nil
			})
			leader := c.StreamLeader(booths.AuditStream)
			if leader < 0 {
				t.Fatal("AUDIT has no leader in the middle of the burst")
			}
			victim := leader
			if !tc.leader {
				victim = (leader + 1) % 3
			}
			t.Logf("%s: node %d goes down (AUDIT leader: node %d)", tc.name, victim+1, leader+1)
			// The fault: a crash cuts the node off first, then stops it. The
			// stream's last sequence once the node is cut off (or just before
			// a clean stop) splits records stored before the fault from those
			// stored after it.
			fault := time.Now()
			if tc.crash {
				faults.Isolate(victim)
			}
			st, err := c.StreamState(leader, booths.AuditStream)
			if err != nil {
				t.Fatal(err)
			}
			if tc.crash {
				faults.Crash(victim)
			} else {
				c.Stop(victim)
			}
			wg.Wait()

			var all []auditWrite
			for _, ws := range writes {
				all = append(all, ws...)
			}
			reportBurst(t, tc.name, all, fault, st.LastSeq, attempts.Load())

			if tc.crash {
				faults.Recover(victim)
			} else {
				c.Restart(victim)
			}
			c.WaitReady(30 * time.Second)
			checkEveryNode(t, c, all)
		})
	}
}

// startAuditLogs runs one in-process booth-runner per instance name, each
// with audit-log on the cluster at urls, AUDIT kept in 3 replicas.
func startAuditLogs(t *testing.T, urls string, instances ...string) {
	t.Helper()
	key := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(key, []byte("faulttest-audit-key-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	provision(t, urls, 3)
	for _, name := range instances {
		cfg := runnerConfig(urls, "audit-log")
		cfg.InstanceName, cfg.Replicas, cfg.AuditKeyFile = name, 3, key
		cfg.StartTimeout = 30 * time.Second
		r, err := runner.Start(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop(context.Background()) })
	}
}

// recordUntilAcked records req under a fresh request id, calling again with
// the same id after a 503 or 504 until it is acknowledged or
// auditWriteLimit passes.
func recordUntilAcked(ctx context.Context, client *rpc.Client, req booths.RecordRequest) auditWrite {
	w := auditWrite{id: uuid.NewString()}
	limit := time.Now().Add(auditWriteLimit)
	for time.Now().Before(limit) && ctx.Err() == nil {
		w.calls++
		start := time.Now()
		cctx, cancel := context.WithTimeout(rpc.WithRequestID(ctx, w.id), auditCallBudget)
		var rep booths.RecordReply
		err := client.Call(cctx, "audit-log", "/record", req, &rep)
		cancel()
		if err == nil {
			w.seq, w.started, w.acked = rep.Seq, start, time.Now()
			return w
		}
		w.errs = append(w.errs, err)
		if code := rpc.CodeOf(err); code != rpc.CodeUnavailable && code != rpc.CodeDeadlineExceeded {
			return w
		}
		time.Sleep(50 * time.Millisecond) // the gateway's backoff
	}
	return w
}

// reportBurst logs the burst's figures and fails the test for a write never
// acknowledged. The failover time is from the fault to the first
// acknowledgement of a record stored after it (a sequence above
// lastAtFault, the stream's last at the fault).
func reportBurst(t *testing.T, name string, writes []auditWrite, fault time.Time, lastAtFault uint64, attempts int64) {
	t.Helper()
	var (
		calls, retried int
		failover       time.Duration = -1
		took           latency
		errSample      error
	)
	for _, w := range writes {
		calls += w.calls
		if w.calls > 1 {
			retried++
			if errSample == nil {
				errSample = w.errs[0]
			}
		}
		if w.acked.IsZero() {
			t.Errorf("write %s never acknowledged after %d calls: %v", w.id, w.calls, errors.Join(w.errs...))
			continue
		}
		took = append(took, w.acked.Sub(w.started))
		if w.seq > lastAtFault {
			if d := w.acked.Sub(fault); failover < 0 || d < failover {
				failover = d
			}
		}
	}
	t.Logf("%s: %d writes by %d writers; fault after %d acknowledged, at seq %d; failover (fault to the first ack of a record stored after it) %v",
		name, len(writes), auditWriters, auditFaultAfter, lastAtFault, failover.Round(time.Millisecond))
	t.Logf("%s: %d calls (%d writes called again with the same request id), %d client attempts; acknowledged call latency %s",
		name, calls, retried, attempts, took)
	if errSample != nil {
		t.Logf("%s: a failed call during the failover said: %v", name, errSample)
	}
	if failover < 0 {
		t.Error("no record stored after the fault was acknowledged")
	}
}

// checkEveryNode waits until every node stores the same AUDIT state, reads
// the records from each node on its own, and checks every acknowledged
// write against each copy.
func checkEveryNode(t *testing.T, c *natstest.Cluster, writes []auditWrite) {
	t.Helper()
	var want uint64
	for _, w := range writes {
		want = max(want, w.seq)
	}
	var last uint64
	natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		var states []string
		for i := range 3 {
			st, err := c.StreamState(i, booths.AuditStream)
			if err != nil {
				return err
			}
			states = append(states, fmt.Sprintf("msgs %d last %d deleted %d", st.Msgs, st.LastSeq, st.NumDeleted))
			last = st.LastSeq
			if st.LastSeq < want {
				return fmt.Errorf("node %d stores up to %d, acknowledged up to %d", i+1, st.LastSeq, want)
			}
		}
		if states[0] != states[1] || states[0] != states[2] {
			return fmt.Errorf("nodes differ: %v", states)
		}
		return nil
	})

	var first []auditchain.Entry
	for i := range 3 {
		entries := readAudit(t, c.URL(i), last)
		lost, dup := compare(writes, entries)
		report := auditchain.Check(fmt.Sprintf("AUDIT on node %d", i+1), last, entries)
		t.Logf("node %d: %d records; %d acknowledged writes lost, %d request ids stored twice; chain intact: %v",
			i+1, len(entries), lost, dup, report.OK())
		if lost != 0 || dup != 0 || !report.OK() {
			t.Errorf("node %d: %d lost, %d duplicated; %s", i+1, lost, dup, report)
		}
		if i == 0 {
			first = entries
		} else if !sameEntries(first, entries) {
			t.Errorf("node %d's records differ from node 1's", i+1)
		}
	}
}

// readAudit reads AUDIT's sequences 1..last from the server at url alone,
// as audit-log (the identity allowed to): the connection knows no other
// server, and a direct get is answered by that server's own replica (NATS
// prefers a local queue subscriber).
func readAudit(t *testing.T, url string, last uint64) []auditchain.Entry {
	t.Helper()
	nc := meshConn(t, url, "audit-log", nats.IgnoreDiscoveredServers())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, booths.AuditStream)
	if err != nil {
		t.Fatal(err)
	}
	var entries []auditchain.Entry
	for seq := uint64(1); seq <= last; seq++ {
		msg, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // a gap: Check reports it
		}
		if err != nil {
			t.Fatalf("%s, seq %d: %v", url, seq, err)
		}
		entries = append(entries, auditchain.Entry{Seq: seq, Data: msg.Data})
	}
	return entries
}

// compare counts the acknowledged writes missing from entries (no record
// of their request id at their sequence) and the request ids stored more
// than once.
func compare(writes []auditWrite, entries []auditchain.Entry) (lost, dup int) {
	bySeq := map[uint64]string{}
	count := map[string]int{}
	for _, e := range entries {
		var rec booths.AuditRecord
		if json.Unmarshal(e.Data, &rec) == nil {
			bySeq[e.Seq] = rec.RequestID
			count[rec.RequestID]++
		}
	}
	for _, w := range writes {
		if !w.acked.IsZero() && bySeq[w.seq] != w.id {
			lost++
		}
	}
	for _, n := range count {
		if n > 1 {
			dup++
		}
	}
	return lost, dup
}

func sameEntries(a, b []auditchain.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}
