package booths_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/auditchain"
	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Two instances appending at once keep one chain: each append names the
// sequence it follows, and the loser of a race links to the winner's record.
func TestAuditChainAcrossInstances(t *testing.T) {
	s := startServer(t)
	logs := &logCounter{}
	cfg := testConfig()
	cfg.Logger = slog.New(logs)
	startBooth(t, s, "audit-log", cfg)
	startBooth(t, s, "audit-log", cfg)
	clients := []*rpc.Client{newClient(t, s), newClient(t, s)}
	const writers, each = 4, 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs = map[uint64]string{}
		errs []error
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := uuid.NewString()
				var rep booths.RecordReply
				ctx := rpc.WithRequestID(t.Context(), id)
				err := clients[w%2].Call(ctx, "audit-log", "/record",
					booths.RecordRequest{User: averySSN, Fee: 125, DocID: fmt.Sprintf("doc-%d-%d", w, i)}, &rep)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if prev, dup := seqs[rep.Seq]; dup {
					errs = append(errs, fmt.Errorf("seq %d acknowledged to %s and %s", rep.Seq, prev, id))
				} else {
					seqs[rep.Seq] = id
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	report, err := auditchain.Verify(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.Count != writers*each || len(seqs) != writers*each {
		t.Errorf("%d acknowledged; verify:\n%s", len(seqs), report)
	}
	// The race was real: some appends lost it and linked to the other
	// instance's record.
	relinked := logs.count("audit append confirmed after retries")
	t.Logf("%d of %d appends retried after the other instance appended first", relinked, writers*each)
	if relinked == 0 {
		t.Error("no append had to relink: the instances did not race")
	}
	for _, st := range serviceStats(t, natstest.Connect(t, s), "audit-log", 2) {
		if st.Endpoints[0].NumRequests == 0 {
			t.Errorf("instance %s served no request: the instances did not race", st.ID)
		}
	}
}

// The canonical form is pinned: a change to AuditRecord's fields or their
// encoding would make every stored record fail verification.
func TestChainHashIsPinned(t *testing.T) {
	rec := booths.AuditRecord{
		ID: "0d4b5c8e-1111-4a4a-9b9b-123456789abc", RequestID: "req-1", Caller: "gateway",
		Action: "license-issued", DocID: "doc-1", Fee: 125, UserMasked: "***-**-6789",
		UserHash: "ab", RecordedAt: "2025-01-02T03:04:05Z", PrevHash: "",
	}
	const canonical = `{"id":"0d4b5c8e-1111-4a4a-9b9b-123456789abc","request_id":"req-1","caller":"gateway",` +
		`"action":"license-issued","doc_id":"doc-1","fee":125,"user_masked":"***-**-6789","user_hash":"ab",` +
		`"recorded_at":"2025-01-02T03:04:05Z","prev_hash":""}`
	sum := sha256.Sum256([]byte(canonical))
	want := hex.EncodeToString(sum[:])
	got := rec.ChainHash()
	if got != want {
		t.Errorf("ChainHash = %s, want %s", got, want)
	}
	rec.Hash = "anything"
	if rec.ChainHash() != got {
		t.Error("ChainHash depends on the Hash field")
	}
	rec.PrevHash = "x"
	if rec.ChainHash() == got {
		t.Error("ChainHash ignores PrevHash")
	}
}

func TestAuditDuplicateWindowOutlastsRetries(t *testing.T) {
	if booths.AuditDuplicateWindow < 10*booths.AuditRetryHorizon {
		t.Errorf("duplicate window %v is not well above the retry horizon %v", booths.AuditDuplicateWindow, booths.AuditRetryHorizon)
	}
	s := startServer(t)
	startBooth(t, s, "audit-log", testConfig())
	cfg := auditStream(t, natstest.Connect(t, s)).CachedInfo().Config
	if cfg.Duplicates != booths.AuditDuplicateWindow || !cfg.DenyDelete || !cfg.DenyPurge ||
		cfg.Storage != jetstream.FileStorage || !cfg.AllowDirect {
		t.Errorf("stream config %+v: want file storage, duplicates %v, deny delete and purge, direct reads",
			cfg, booths.AuditDuplicateWindow)
	}
}

// logCounter is a slog.Handler that counts records by message.
type logCounter struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCounter) WithGroup(string) slog.Handler            { return l }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msgs == nil {
		l.msgs = map[string]int{}
	}
	l.msgs[r.Message]++
	return nil
}

func (l *logCounter) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msgs[msg]
}
