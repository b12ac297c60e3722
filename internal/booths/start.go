package booths

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Names lists the demo booths, in the order of Avery's license.
var Names = []string{"fee-calc", "payment", "license-printer", "audit-log"}

// Version is the version every demo booth reports to discovery.
const Version = "1.0.0"

// ErrUnknownBooth is matched by Start's error for a name not in Names.
var ErrUnknownBooth = errors.New("unknown booth")

// Start runs the booth called name on nc and returns it serving; stop it
// with its Stop method. ctx bounds the start only (binding the booth's
// JetStream stores, reading the fee table), not the booth's life. The
// stores must exist: the provisioner makes them (internal/stores), and a
// booth never creates or edits one.
func Start(ctx context.Context, nc *nats.Conn, name string, cfg Config) (*rpc.Booth, error) {
	if nc == nil {
		return nil, fmt.Errorf("booth %s: nil NATS connection", name)
	}
	switch name {
	case "fee-calc":
		return startFeeCalc(ctx, nc, cfg)
	case "payment":
		return startPayment(ctx, nc, cfg)
	case "license-printer":
		return startPrinter(ctx, nc, cfg)
	case "audit-log":
		return startAuditLog(ctx, nc, cfg)
	}
	return nil, fmt.Errorf("%w %q: known booths are %s", ErrUnknownBooth, name, strings.Join(Names, ", "))
}

// newBooth makes the rpc.Booth of one demo booth with the shared options and
// serves h on path; on failure it stops what it started.
// extras are what one booth adds to the setup every booth shares.
type extras struct {
	booth    []rpc.BoothOption
	endpoint []rpc.EndpointOption
}

func newBooth[Req, Res any](nc *nats.Conn, cfg Config, name, description, path string, h rpc.Handler[Req, Res], x extras) (*rpc.Booth, error) {
	meta := map[string]string{"demo": "true"}
	if cfg.Instance != "" {
		meta["instance"] = cfg.Instance
	}
	opts := append([]rpc.BoothOption{rpc.WithLogger(cfg.logger())}, cfg.BoothOptions...)
	opts = append(opts, x.booth...)
	newBooth := cfg.NewBooth
	if newBooth == nil {
		newBooth = func(c rpc.BoothConfig, opts ...rpc.BoothOption) (*rpc.Booth, error) {
			return rpc.NewBooth(nc, c, opts...)
		}
	}
	b, err := newBooth(rpc.BoothConfig{Name: name, Version: Version, Description: description, Metadata: meta}, opts...)
	if err != nil {
		return nil, err
	}
	if err := rpc.Handle(b, path, h, x.endpoint...); err != nil {
		_ = b.Stop(context.Background())
		return nil, err
	}
	return b, nil
}
