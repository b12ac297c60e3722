// Command booth-runner runs booths on a NATS mesh: the demo license booths
// (--demo, or --booth NAME for some of them) until SIGINT or SIGTERM, then
// drains them and exits 0. Each booth connects with its own identity's
// credentials from --mesh-dir and checks every call's token against
// --matrix; there is no way to run one without. Every request is traced on
// svc.trace.<booth> and measured; --metrics-listen serves the metrics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/runner"
)

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var cfg runner.Config
	var names listFlag
	fs := flag.NewFlagSet("booth-runner", flag.ExitOnError)
	fs.StringVar(&cfg.NATSURL, "nats", runner.DefaultNATSURL, "NATS server URL")
	fs.BoolVar(&cfg.Demo, "demo", false, "run all the demo booths: "+strings.Join(booths.Names, ", "))
	fs.Var(&names, "booth", "run this booth (repeatable): one of "+strings.Join(booths.Names, ", "))
	fs.StringVar(&cfg.FeeTable, "fees", booths.DefaultFeeTable, "fee-calc's YAML fee table")
	fs.StringVar(&cfg.AuditKeyFile, "audit-key-file", "", "file holding audit-log's SSN hash key (random per start if empty)")
	fs.StringVar(&cfg.InstanceName, "instance-name", "", "name of this instance in discovery (default host-pid)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus /metrics on this loopback address (e.g. "+runner.DefaultMetricsListen+"); off when empty")
	fs.StringVar(&cfg.HealthListen, "health-listen", "", "serve /healthz and /readyz alone on this address, any interface (e.g. :8080 for a kubelet's probes); off when empty")
	fs.IntVar(&cfg.Replicas, "replicas", 1, "copies JetStream keeps of the booths' stores: 1 on a single server, 3 on a cluster (never lowered)")
	meshDir := fs.String("mesh-dir", ".mesh", "credentials folder written by meshctl init: each booth connects with its own")
	matrixFile := fs.String("matrix", "deployments/matrix.yaml", "Access & Authorization Matrix every call's token is checked against")
	_ = fs.Parse(os.Args[1:])
	cfg.Booths = names
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "booth-runner: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Logger = log

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	secured, err := runner.Secure(cfg, *meshDir, *matrixFile)
	if err == nil {
		err = secured.Run(ctx)
	}
	if err != nil {
		log.Error("booth-runner failed", "error", err)
		if errors.Is(err, runner.ErrConfig) {
			os.Exit(2)
		}
		os.Exit(1)
	}
	log.Info("booth-runner stopped")
}
