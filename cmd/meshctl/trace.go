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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/meshcreds"
	"github.com/hms-svc/hms-svc/internal/tracecli"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

const traceUsage = `usage: meshctl trace <command> [flags]

commands:
  tail [--since 5m] [--count N]   print trace events live, one line each
  show ID                         print one trace's hops in causal order and its Mermaid diagram

Both connect with --nats URL (nats://127.0.0.1:4222), --mesh-dir (.mesh) and
--as IDENTITY (bridge, whose grants let it read SVC_TRACE).
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

// traceConn holds the connection flags of the trace commands and the last
// error the server reported asynchronously (a permissions violation).
type traceConn struct {
	url, dir, identity string
	refused            atomic.Pointer[string]
}

// explain adds to err what the server refused, if anything: a request the
// identity may not make shows only as a timeout otherwise.
func (c *traceConn) explain(err error) error {
	if err == nil {
		return nil
	}
	if r := c.refused.Load(); r != nil {
		return fmt.Errorf("%w (the server refused %s: %s)", err, c.identity, *r)
	}
	return err
}

func (c *traceConn) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "nats", "nats://127.0.0.1:4222", "NATS server URL")
	fs.StringVar(&c.dir, "mesh-dir", ".mesh", "credentials folder")
	fs.StringVar(&c.identity, "as", "bridge", "identity to connect as (it needs a SVC_TRACE grant)")
}

// connect opens a connection as the identity, with its TLS certificate and
// NKey, that reconnects for as long as it is used.
func (c *traceConn) connect() (*nats.Conn, jetstream.JetStream, error) {
	opts, err := meshcreds.ClientOptions(c.dir, c.identity)
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts, nats.Timeout(5*time.Second), nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				msg := err.Error()
				c.refused.Store(&msg)
			}
		}))
	nc, err := nats.Connect(c.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s as %s: %w", c.url, c.identity, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func runTraceTail(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl trace tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn traceConn
	conn.flags(fs)
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
	return conn.explain(tracecli.Tail(ctx, js, from, *count, stdout))
}

func runTraceShow(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl trace show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn traceConn
	conn.flags(fs)
	timeout := fs.Duration("timeout", 10*time.Second, "how long the lookup may take")
	// The id may come before the flags or after them.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
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
	return conn.explain(tracecli.Show(ctx, js, id, stdout))
}
