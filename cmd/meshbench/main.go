// Command meshbench is the side-by-side benchmark of HMS-SVC behind
// `make bench`: `meshbench run` measures every pair and writes
// BENCHMARKS.md; `meshbench plain` is the plain Go HTTP server it starts as
// a child process; `meshbench profile` writes CPU and allocation profiles
// of the pkg/rpc-versus-raw-NATS pair.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hms-svc/hms-svc/internal/bench"
	"github.com/hms-svc/hms-svc/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its exit status: 0 on success, 1 when the benchmark
// fails, 2 for bad arguments.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		cmd = "version"
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "run":
		err = runBench(ctx, args, stdout, stderr)
	case "plain":
		err = runPlain(ctx, args, stdout, stderr)
	case "profile":
		err = runProfile(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, cli.Version("meshbench"))
	default:
		fmt.Fprintf(stderr, "meshbench: unknown command %q: use run, plain, profile or version\n", cmd)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "meshbench:", err)
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "meshbench:", err)
		return 1
	}
	return 0
}

// usageError is a bad command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parse parses args with fs, refusing leftovers.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	return nil
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := bench.Config{Log: stderr, Skip: map[string]bool{}}
	var out, work, skip string
	fs := flag.NewFlagSet("meshbench run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.RepoDir, "repo", ".", "repository root (deployments/ is read from it)")
	fs.StringVar(&cfg.BinDir, "bin", "bin", "folder holding the built broker-bridge, booth-runner and meshbench")
	fs.StringVar(&work, "work", "", "folder for credentials, stores and logs (default: a new temporary one, removed after a successful run)")
	fs.StringVar(&out, "out", "BENCHMARKS.md", "report to write (its hand-written analysis, after the marker line, is kept); empty writes none")
	fs.IntVar(&cfg.Rounds, "rounds", 5, "rounds of each pair")
	fs.DurationVar(&cfg.Window, "window", time.Second, "measured period of each closed-loop run")
	fs.DurationVar(&cfg.OpenWindow, "open-window", 2*time.Second, "period of each open-loop run")
	fs.DurationVar(&cfg.HTTPWindow, "http-window", 2*time.Second, "measured period of each HTTP run")
	fs.StringVar(&skip, "skip", "", "comma-separated sections to skip: rpc, http")
	fs.StringVar(&cfg.Commit, "commit", "", "the code measured (git describe), for the report")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, s := range strings.Split(skip, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if s != "rpc" && s != "http" {
				return usageError{fmt.Sprintf("-skip %q: sections are rpc and http", s)}
			}
			cfg.Skip[s] = true
		}
	}
	temporary := work == ""
	if temporary {
		d, err := os.MkdirTemp("", "meshbench-")
		if err != nil {
			return err
		}
		work = d
	}
	cfg.WorkDir = work
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%w (logs kept in %s)", err, work)
	}
	if temporary {
		_ = os.RemoveAll(work)
	}
	rep.Text(stdout)
	if out == "" {
		return nil
	}
	if err := rep.WriteFile(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", out)
	return nil
}

func runPlain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg bench.PlainConfig
	fs := flag.NewFlagSet("meshbench plain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "loopback address to serve on")
	fs.StringVar(&cfg.FeeTable, "fees", "deployments/fees.yaml", "fee table")
	fs.StringVar(&cfg.TLSDir, "tls-dir", "", "credentials folder: serve HTTPS requiring a mesh client certificate")
	if err := parse(fs, args); err != nil {
		return err
	}
	return bench.RunPlain(ctx, cfg, stdout)
}
