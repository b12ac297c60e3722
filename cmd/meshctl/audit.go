package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hms-svc/hms-svc/internal/auditchain"
)

const auditUsage = `usage: meshctl audit <command> [flags]

commands:
  verify   check the AUDIT stream's hash chain from its first record to its last,
           one line per problem naming its sequence and kind: foreign (a record
           audit-log did not write), edited (does not match its hash), restart
           (a new chain after the first record), gap (records missing, or a
           link that does not hold); exit 1 when there is any

verify connects with --nats URL (nats://127.0.0.1:4222), --mesh-dir (.mesh) and
--as IDENTITY (inspector, whose grant lets it read AUDIT).
`

// errChainBroken is returned when the audit chain does not hold; the report
// printed says where.
var errChainBroken = errors.New("the audit chain is broken: see the report above")

// runAudit runs "meshctl audit verify".
func runAudit(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	fmt.Fprintf(stderr, "meshctl audit: unknown command %q\n%s", args[0], auditUsage)
	return errUsage
}

func runAuditVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn natsConn
	conn.flags(fs, "inspector", "AUDIT")
	timeout := fs.Duration("timeout", time.Minute, "how long reading the stream may take")
	if err := parse(fs, args); err != nil {
		return err
	}
	nc, _, err := conn.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ok, err := auditchain.RunVerify(ctx, nc, stdout)
	if err != nil {
		return conn.explain(err)
	}
	if !ok {
		return errChainBroken
	}
	return nil
}
