package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Load on payment in these tests: 8 callers, each charging with a fresh
// request id, one call after another, for 2 s; every call has 3 s.
const (
	chargeWorkers = 8
	chargeLoadFor = 2 * time.Second
	chargeBudget  = 3 * time.Second
)

// charged is the outcome of one /charge call under load.
type charged struct {
	id   string
	txn  string
	took time.Duration
	err  error
}

// One of two payment instances (real booth-runner processes) is lost under
// steady load: SIGKILLed, or sent SIGTERM to drain. Either way the caller
// sees no failed call (its client retries what timed out, with the same
// request id) and no request id is charged twice.
func TestPaymentInstanceLostUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGKILL", syscall.SIGKILL},
		{"SIGTERM drains", syscall.SIGTERM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(), Tune: secure})
			url := s.ClientURL()
			provision(t, url, 1)
			victim := startRunner(t, url, "payment", "payment-1")
			startRunner(t, url, "payment", "payment-2")
			discovery := meshConn(t, url, "bridge")
			served(t, discovery, "payment", "payment-1", "payment-2")

			var attempts atomic.Int64
			client := gatewayClient(t, meshConn(t, url, "gateway"), rpc.WithAttemptMiddleware(countAttempts(&attempts)))
			var (
				mu    sync.Mutex
				calls []charged
				wg    sync.WaitGroup
			)
			loadStart := time.Now()
			stopAt := loadStart.Add(chargeLoadFor)
			for range chargeWorkers {
				wg.Go(func() {
					for time.Now().Before(stopAt) {
						c := charge(t.Context(), client)
						mu.Lock()
						calls = append(calls, c)
						mu.Unlock()
					}
				})
			}

			// Mid-load: a third of the way in, once the victim has served a
			// good share, stop it.
			natstest.CheckFor(t, chargeLoadFor, 5*time.Millisecond, func() error {
				if since := time.Since(loadStart); since < chargeLoadFor/3 {
					return fmt.Errorf("load running for %v", since)
				}
				if n := served(t, discovery, "payment", "payment-1")["payment-1"]; n < 100 {
					return fmt.Errorf("payment-1 has served %d charges", n)
				}
				return nil
			})
			before := served(t, discovery, "payment", "payment-1")["payment-1"]
			victim.signal(t, tc.sig)
			state := victim.wait(t, 15*time.Second)
			wg.Wait()

			switch tc.sig {
			case syscall.SIGKILL:
				if state.Success() {
					t.Errorf("payment-1 exited %v after SIGKILL", state)
				}
			case syscall.SIGTERM:
				if state.ExitCode() != 0 || !victim.out.contains("booth-runner stopped") {
					t.Errorf("payment-1 exited %v after SIGTERM, want 0 after a drain", state)
				}
			}

			var failed []error
			var took latency
			acked := map[string]string{}
			for _, c := range calls {
				took = append(took, c.took)
				if c.err != nil {
					failed = append(failed, c.err)
					continue
				}
				acked[c.id] = c.txn
			}
			writes, byID := ledgerWrites(t, meshConn(t, url, "payment"))
			var missing, wrongTxn int
			for id, txn := range acked {
				switch got, ok := byID[id]; {
				case !ok:
					missing++
				case got != txn:
					wrongTxn++
				}
			}
			double := writes - uint64(len(byID))
			t.Logf("%s: %d calls in %v from %d callers, %d failed; %d attempts (%d retries); payment-1 served %d before the signal; latency %s",
				tc.name, len(calls), chargeLoadFor, chargeWorkers, len(failed), attempts.Load(), attempts.Load()-int64(len(calls)), before, took)
			t.Logf("%s: ledger: %d writes for %d request ids: %d double charges; %d acknowledged charges missing, %d with another txn",
				tc.name, writes, len(byID), double, missing, wrongTxn)
			for i, err := range failed {
				if i == 5 {
					break
				}
				t.Errorf("failed call: %v", err)
			}
			if double != 0 || missing != 0 || wrongTxn != 0 || len(byID) != len(acked) {
				t.Errorf("ledger holds %d ids in %d writes for %d acknowledged charges (%d missing, %d with another txn): want each exactly once",
					len(byID), writes, len(acked), missing, wrongTxn)
			}
		})
	}
}

// charge makes one /charge call with a fresh request id and a 3 s budget.
func charge(ctx context.Context, client *rpc.Client) charged {
	c := charged{id: uuid.NewString()}
	ctx, cancel := context.WithTimeout(rpc.WithRequestID(ctx, c.id), chargeBudget)
	defer cancel()
	start := time.Now()
	var res booths.ChargeReply
	c.err = client.Call(ctx, "payment", "/charge", booths.ChargeRequest{Amount: 125, Currency: "USD"}, &res)
	c.took, c.txn = time.Since(start), res.Txn
	return c
}

// ledgerWrites reads, over nc (payment's own), every message ever kept in the PAYMENTS bucket's
// stream: how many were written (its last sequence: a second write of an id
// replaces the first and still counts) and the txn kept per request id.
func ledgerWrites(t *testing.T, nc *nats.Conn) (uint64, map[string]string) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := js.Stream(ctx, "KV_"+booths.PaymentsBucket)
	if err != nil {
		t.Fatal(err)
	}
	state := st.CachedInfo().State
	byID := map[string]string{}
	if state.Msgs == 0 {
		return state.LastSeq, byID
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for uint64(len(byID)) < state.Msgs {
		batch, err := cons.Fetch(int(min(500, state.Msgs-uint64(len(byID)))), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			var e booths.LedgerEntry
			if err := json.Unmarshal(msg.Data(), &e); err != nil {
				t.Fatalf("ledger entry %s: %v", msg.Subject(), err)
			}
			if id := strings.TrimPrefix(msg.Subject(), "$KV."+booths.PaymentsBucket+"."); id != e.RequestID {
				t.Errorf("ledger key %s holds request %s", id, e.RequestID)
			}
			byID[e.RequestID] = e.Reply.Txn
		}
		if err := batch.Error(); err != nil || n == 0 {
			t.Fatalf("reading the ledger: %d of %d entries, %v", len(byID), state.Msgs, err)
		}
	}
	return state.LastSeq, byID
}
