package booths

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

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
	// Replicas is how many copies JetStream keeps of the booths' stores
	// (the AUDIT stream, the PAYMENTS ledger, the LICENSES store): 1 on a
	// single server, 3 on a cluster; 0 means 1. A store that already has
	// more replicas keeps them.
	Replicas int
}

// MaxReplicas is the most replicas JetStream keeps of a stream.
const MaxReplicas = 5

// replicas returns the replica count to ask for, or an error naming a
// count JetStream cannot keep.
func (c Config) replicas() (int, error) {
	switch {
	case c.Replicas == 0:
		return 1, nil
	case c.Replicas < 0 || c.Replicas > MaxReplicas:
		return 0, fmt.Errorf("replicas must be 1 to %d, got %d", MaxReplicas, c.Replicas)
	}
	return c.Replicas, nil
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
