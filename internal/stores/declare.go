package stores

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// The stores of the mesh, as the matrix names them.
const (
	// Audit is the stream of audit-log's hash-chained records, on
	// AuditSubject.
	Audit        = "AUDIT"
	AuditSubject = "audit.records"
	// Payments is the key-value bucket of payment's ledger, keyed by
	// request id, written once per key.
	Payments = "PAYMENTS"
	// Licenses is the object store of printed licenses (PDF).
	Licenses = "LICENSES"
	// Dedup is the key-value bucket of the answers of NotIdempotent
	// endpoints (rpc.DedupStreamConfig), written once per key.
	Dedup = rpc.DedupBucket
	// Trace is the stream of trace events (trace.StreamConfig).
	Trace = subjects.TraceStream
)

// AuditDuplicateWindow is how long Audit remembers a request id to
// deduplicate a record (its Duplicates window): longer than every retry of
// one logical call.
const AuditDuplicateWindow = 10 * time.Minute

// MaxReplicas is the most replicas JetStream keeps of a stream.
const MaxReplicas = 5

// Store is one declared store: its kind and name as the matrix grants it,
// and the config of the stream behind it.
type Store struct {
	Kind   matrix.Store
	Name   string
	Config jetstream.StreamConfig
	// WriteOnce is true for a key-value bucket whose every key is written
	// once (writeonce.Bucket): nothing stored there can be replaced or
	// erased.
	WriteOnce bool
}

// Stream returns the name of the stream behind the store ("KV_PAYMENTS").
func (s Store) Stream() string { return s.Config.Name }

// String names the store as an operator reads it: "kv PAYMENTS (stream
// KV_PAYMENTS)".
func (s Store) String() string {
	if s.Kind == matrix.StoreStream {
		return "stream " + s.Name
	}
	return fmt.Sprintf("%s %s (stream %s)", s.Kind, s.Name, s.Stream())
}

// Options say how many copies the stores keep and how long the stores that
// expire keep their entries.
type Options struct {
	// Replicas of every store: 1 on a single server, 3 on a cluster; 0
	// means 1. Provision never lowers a store's replicas.
	Replicas int
	// Trace is SVC_TRACE's retention (trace.StreamConfig's defaults when
	// zero); a zero Trace.Replicas means Replicas.
	Trace trace.StreamConfig
	// DedupTTL is how long SVC_DEDUP keeps an answer (rpc.DefaultDedupTTL
	// when 0).
	DedupTTL time.Duration
}

// Declare returns every store of the mesh with its config for o, sorted by
// stream name, or an error naming a bad option.
func Declare(o Options) ([]Store, error) {
	if o.Replicas < 0 || o.Replicas > MaxReplicas {
		return nil, fmt.Errorf("stores: replicas must be 1 to %d (1 on a single server, 3 on a cluster), got %d", MaxReplicas, o.Replicas)
	}
	r := max(o.Replicas, 1)
	if o.Trace.Replicas == 0 {
		o.Trace.Replicas = r
	}
	traceCfg, err := o.Trace.JetStream()
	if err != nil {
		return nil, fmt.Errorf("stores: %w", err)
	}
	dedupCfg, err := rpc.DedupStreamConfig(r, o.DedupTTL)
	if err != nil {
		return nil, fmt.Errorf("stores: %w", err)
	}
	out := []Store{
		{Kind: matrix.StoreStream, Name: Audit, Config: auditConfig(r)},
		{Kind: matrix.StoreKV, Name: Payments, Config: ledgerConfig(r), WriteOnce: true},
		{Kind: matrix.StoreKV, Name: Dedup, Config: dedupCfg, WriteOnce: true},
		{Kind: matrix.StoreObject, Name: Licenses, Config: licensesConfig(r)},
		{Kind: matrix.StoreStream, Name: Trace, Config: traceCfg},
	}
	slices.SortFunc(out, func(a, b Store) int { return strings.Compare(a.Stream(), b.Stream()) })
	return out, nil
}

// declared returns the store whose stream is stream, with the default
// options.
func declared(stream string) (Store, bool) {
	all, _ := Declare(Options{})
	for _, s := range all {
		if s.Stream() == stream {
			return s, true
		}
	}
	return Store{}, false
}
