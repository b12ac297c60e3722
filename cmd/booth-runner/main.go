// Command booth-runner runs booths on a NATS mesh until SIGINT or SIGTERM,
// then drains them and exits 0: the demo license booths (--demo, or
// --booth NAME for some of them), or, with --sidecar, an app in any
// language joined to the mesh as --identity. Each booth connects with its
// own identity's credentials from --mesh-dir and checks every call's token
// against --matrix; there is no way to run one without. Every request is
// traced on svc.trace.<booth> and measured; --metrics-listen serves the
// metrics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/cli"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// envAliases name the variable of a flag whose name alone would say too
// little; every other flag's is cli.EnvName's.
var envAliases = map[string]string{"listen": "HMS_SIDECAR_LISTEN"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run is the command: it parses args, runs until ctx ends and returns the
// exit code (2 for a bad command line or config).
func run(ctx context.Context, args []string, stderr io.Writer) int {
	var common cli.Common
	cfg, err := parse(args, &common, stderr)
	if err == nil && common.ShowVersion {
		fmt.Fprintln(stderr, cli.Version("booth-runner"))
		return 0
	}
	var log *slog.Logger
	if err == nil {
		log, err = common.Logger(stderr, trace.LogHandler)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "booth-runner:", err)
		}
		return 2
	}
	cfg.Logger = log
	if err := runner.Run(ctx, cfg); err != nil {
		log.Error("booth-runner failed", "error", err)
		if errors.Is(err, runner.ErrConfig) {
			return 2
		}
		return 1
	}
	log.Info("booth-runner stopped")
	return 0
}

// parse turns the command line, the HMS_* environment and the --config
// file, in that order of precedence, into the runner's config.
func parse(args []string, common *cli.Common, stderr io.Writer) (runner.Config, error) {
	var cfg runner.Config
	var names cli.List
	fs := flag.NewFlagSet("booth-runner", flag.ContinueOnError)
	fs.SetOutput(stderr)
	common.Register(fs)
	fs.StringVar(&cfg.NATSURL, "nats", runner.DefaultNATSURL, "NATS server URL ("+mesh.EnvNATSURL+")")
	fs.BoolVar(&cfg.Demo, "demo", false, "run all the demo booths: "+strings.Join(booths.Names, ", "))
	fs.Var(&names, "booth", "run this booth (repeatable): one of "+strings.Join(booths.Names, ", "))
	fs.StringVar(&cfg.FeeTable, "fees", booths.DefaultFeeTable, "fee-calc's YAML fee table")
	fs.StringVar(&cfg.AuditKeyFile, "audit-key-file", "", "file holding audit-log's SSN hash key (random per start if empty)")
	fs.StringVar(&cfg.InstanceName, "instance-name", "", "name of this instance in discovery (default host-pid; "+mesh.EnvInstance+")")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus /metrics on this loopback address (e.g. "+runner.DefaultMetricsListen+"); off when empty")
	fs.StringVar(&cfg.HealthListen, "health-listen", "", "serve /healthz and /readyz alone on this address, any interface (e.g. :8080 for a kubelet's probes); off when empty")
	fs.IntVar(&cfg.Replicas, "replicas", 1, "copies of their stores the booths expect (1 on a single server, 3 on a cluster); fewer is logged: the provisioner sets it")
	// The credential files may also be named one by one (HMS_CA_FILE...).
	cfg.Credentials = mesh.ConfigFromEnv().Credentials
	fs.StringVar(&cfg.Credentials.Dir, "mesh-dir", ".mesh", "credentials folder written by meshctl init: each booth connects with its own ("+mesh.EnvMeshDir+")")
	fs.StringVar(&cfg.MatrixFile, "matrix", "deployments/matrix.yaml", "Access & Authorization Matrix every call's token is checked against ("+mesh.EnvMatrix+")")
	sc := sidecarFlags(fs)
	if err := cli.Parse(fs, args, common, envAliases); err != nil {
		return cfg, err
	}
	if common.ShowVersion {
		return cfg, nil
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Booths = names
	var err error
	if cfg.Sidecar, cfg.Identity, err = sc.config(); err != nil {
		return cfg, err
	}
	return cfg, nil
}
