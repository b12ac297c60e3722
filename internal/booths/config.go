package booths

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// DefaultFeeTable is the fee table fee-calc reads when Config.FeeTable is
// empty, relative to the working directory (the repository root).
const DefaultFeeTable = "deployments/fees.yaml"

// MinAuditKeyLen is the shortest HMAC key audit-log accepts, in bytes.
const MinAuditKeyLen = 16

// Config is what the booths need from the process that runs them. A booth
// reads only the fields it uses.
type Config struct {
	// FeeTable is the path of fee-calc's YAML fee table (DefaultFeeTable
	// when empty).
	FeeTable string
	// AuditKey is audit-log's HMAC-SHA256 key for SSNs, at least
	// MinAuditKeyLen bytes. Hashes are comparable only under the same key.
	AuditKey []byte
	// Logger receives the booths' logs (slog.Default() when nil).
	Logger *slog.Logger
	// NewBooth makes each booth: a *mesh.Mesh's NewBooth, with the mesh's
	// whole stack; rpc.NewBooth on the connection when nil (a bare booth,
	// for tests).
	NewBooth func(cfg rpc.BoothConfig, opts ...rpc.BoothOption) (*rpc.Booth, error)
	// BoothOptions are more options of each booth (middlewares,
	// concurrency), after those NewBooth applies.
	BoothOptions []rpc.BoothOption
	// Instance names this instance in discovery metadata ("instance");
	// optional.
	Instance string
	// Metrics, when set, is where the booths register their own metrics
	// (audit-log's hms_svc_audit_chain_problems_total).
	Metrics prometheus.Registerer
	// Replicas is how many copies of their stores (the AUDIT stream, the
	// PAYMENTS ledger, the LICENSES store, SVC_DEDUP) the booths expect: 1
	// on a single server, 3 on a cluster; 0 expects nothing. The booths
	// only bind their stores, so a store that keeps fewer is logged, not
	// changed: the provisioner (the bridge, meshctl provision) sets it.
	Replicas int
}

// MaxReplicas is the most replicas JetStream keeps of a stream.
const MaxReplicas = stores.MaxReplicas

// expect is what the booths expect of the stores they bind.
func (c Config) expect() stores.Expect {
	return stores.Expect{Replicas: c.Replicas, Logger: c.logger()}
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

func (c Config) feeTable() string {
	if c.FeeTable == "" {
		return DefaultFeeTable
	}
	return c.FeeTable
}
