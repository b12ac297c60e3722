// Command broker-bridge is the HTTP/2 entry of the mesh: it serves the
// bridge API (see internal/bridge) over HTTPS with client certificates and,
// unless --nats names an external server, runs an embedded NATS server with
// JetStream and the matrix's authorization, so one command runs a whole
// mesh on one machine. Its credentials come from --mesh-dir (meshctl init).
// At start it provisions every JetStream store of the mesh, when the matrix
// makes it the provisioner (the demo's does). It records every call in the
// SVC_TRACE stream and, with --monitor-listen,
// serves the live page and metrics to this machine without a certificate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hms-svc/hms-svc/internal/bridge/app"
	"github.com/hms-svc/hms-svc/internal/cli"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run is main with its exit status: 0 after a clean shutdown, 1 when the
// bridge fails, 2 for bad flags.
func run(args []string, stderr io.Writer) int {
	var common cli.Common
	cfg, err := parseFlags(args, &common, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && common.ShowVersion {
		fmt.Fprintln(stderr, cli.Version("broker-bridge"))
		return 0
	}
	if err == nil {
		cfg.Logger, err = common.Logger(stderr, trace.LogHandler)
	}
	if err != nil {
		fmt.Fprintln(stderr, "broker-bridge:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
	}()
	a, err := app.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "broker-bridge:", err)
		return 1
	}
	if err := a.Wait(); err != nil {
		fmt.Fprintln(stderr, "broker-bridge:", err)
		return 1
	}
	cfg.Logger.Info("broker-bridge stopped")
	return 0
}

// parseFlags reads the command line, the HMS_* environment and the
// --config file, in that order of precedence, into an app.Config and
// checks it.
func parseFlags(args []string, common *cli.Common, stderr io.Writer) (app.Config, error) {
	var cfg app.Config
	fs := flag.NewFlagSet("broker-bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	common.Register(fs)
	fs.StringVar(&cfg.Listen, "listen", app.DefaultListen, "HTTP address to serve the bridge API on")
	fs.StringVar(&cfg.NATSURL, "nats", "", "URL of an external NATS server; empty runs an embedded one")
	fs.StringVar(&cfg.NATSListen, "nats-listen", app.DefaultNATSListen, "address of the embedded NATS server (loopback only; port 0 picks one)")
	fs.StringVar(&cfg.DataDir, "data", app.DefaultDataDir, "JetStream data directory of the embedded NATS server")
	fs.StringVar(&cfg.MeshDir, "mesh-dir", app.DefaultMeshDir, "credentials folder written by meshctl init (CA, certificates, NKeys)")
	fs.StringVar(&cfg.MatrixFile, "matrix", app.DefaultMatrix, "Access & Authorization Matrix")
	fs.BoolVar(&cfg.InsecureH2C, "insecure-h2c", false, "serve cleartext HTTP/2 instead of HTTPS, on a loopback --listen only (benchmarks); needs --insecure-h2c-as")
	fs.StringVar(&cfg.InsecureH2CAs, "insecure-h2c-as", "", "with --insecure-h2c: the identity every request calls for (e.g. gateway), which the matrix must let the bridge act for")
	fs.StringVar(&cfg.MonitorListen, "monitor-listen", "", "also serve the read-only monitoring endpoints (/ui, /metrics, traces, services, breakers) in cleartext without authentication on this loopback address (e.g. "+app.DefaultMonitorListen+"); off when empty")
	fs.StringVar(&cfg.HealthListen, "health-listen", "", "also serve /healthz and /readyz alone in cleartext without authentication on this address, any interface (e.g. :8080 for a kubelet's probes); off when empty")
	fs.IntVar(&cfg.Replicas, "replicas", app.DefaultReplicas, "replicas of every store the bridge provisions at start: 1 on one server, 3 on a cluster (never lowered)")
	fs.IntVar(&cfg.TraceReplicas, "trace-replicas", 0, "replicas of the SVC_TRACE stream (default: as --replicas)")
	fs.DurationVar(&cfg.TraceMaxAge, "trace-max-age", app.DefaultTraceMaxAge, "how long SVC_TRACE keeps trace events")
	fs.Int64Var(&cfg.TraceMaxBytes, "trace-max-bytes", app.DefaultTraceMaxBytes, "most bytes SVC_TRACE keeps; the oldest events go first")
	fs.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", "", "also send every trace span over OTLP/HTTP to this receiver (Jaeger, Tempo, an OpenTelemetry Collector), e.g. http://127.0.0.1:4318; off when empty")
	if err := cli.Parse(fs, args, common, nil); err != nil {
		return cfg, err
	}
	if common.ShowVersion {
		return cfg, nil
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return cfg, cfg.Validate()
}
