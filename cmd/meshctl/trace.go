package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hms-svc/hms-svc/internal/tracecli"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

const traceUsage = `usage: meshctl trace <command> [flags]

commands:
  tail [--since 5m] [--count N]   print trace events live, one line each
  show ID                         print one trace's hops in causal order and its Mermaid diagram

Both connect with --nats URL (nats://127.0.0.1:4222), --mesh-dir (.mesh) and
--as IDENTITY (inspector, whose grant lets it read SVC_TRACE).
`

// runTrace runs "meshctl trace tail" and "meshctl trace show".
func runTrace(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, traceUsage)
		return errUsage
	}
	switch args[0] {
	case "tail":
		return runTraceTail(args[1:], stdout, stderr)
	case "show":
		return runTraceShow(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, traceUsage)
		return nil
	}
	fmt.Fprintf(stderr, "meshctl trace: unknown command %q\n%s", args[0], traceUsage)
	return errUsage
}

func runTraceTail(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl trace tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn natsConn
	conn.flags(fs, "inspector", "SVC_TRACE")
	since := fs.Duration("since", 0, "also print the events stored this long before now (0: only new ones)")
	count := fs.Int("count", 0, "exit after this many events (0: run until interrupted)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *since < 0 || *count < 0 {
		fmt.Fprintf(stderr, "--since and --count must not be negative, got %v and %d\n", *since, *count)
		return errUsage
	}
	nc, js, err := conn.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var from time.Time
	if *since > 0 {
		from = time.Now().Add(-*since)
	}
	return conn.explain(tracecli.Tail(ctx, js, from, *count, stdout, screenOn(stderr)))
}

func runTraceShow(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl trace show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn natsConn
	conn.flags(fs, "inspector", "SVC_TRACE")
	timeout := fs.Duration("timeout", 10*time.Second, "how long the lookup may take")
	// The id may come before the flags or after them.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if id == "" && len(rest) > 0 {
		id, rest = rest[0], rest[1:]
	}
	if id == "" || len(rest) > 0 {
		fmt.Fprintln(stderr, "usage: meshctl trace show ID [--nats URL] [--mesh-dir DIR] [--as IDENTITY] [--timeout D]")
		return errUsage
	}
	if _, err := trace.ParseTraceID(id); err != nil {
		return fmt.Errorf("trace id %q: %w", id, err)
	}
	nc, js, err := conn.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	return conn.explain(tracecli.Show(ctx, js, id, stdout, screenOn(stderr)))
}

// screenOn makes the trace readers say on w (at most once a minute) which
// stored events they withheld because their emitter may not have made them.
func screenOn(w io.Writer) trace.ReadOption {
	return trace.WithScreen(trace.NewScreen(slog.New(slog.NewTextHandler(w, nil))))
}
