package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// runRevoke revokes an identity (or undoes it, or lists the revoked) in the
// operator-signed revocation list the running mesh follows.
func runRevoke(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: meshctl revoke [flags] IDENTITY | --undo IDENTITY | --list

Revokes IDENTITY in the revocation list (revoked.jwt, signed with the
operator NKey operator.nk): within seconds, and with no restart, the
embedded NATS server closes and refuses its connections and every booth
refuses its calls.

`)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", ".mesh", "credentials folder")
	mpath := fs.String("matrix", "deployments/matrix.yaml", "Access & Authorization Matrix")
	undo := fs.Bool("undo", false, "take IDENTITY off the list")
	list := fs.Bool("list", false, "print the revoked identities")
	reason := fs.String("reason", "", "why, recorded in the list")
	names, err := parseWithNames(fs, args)
	if err != nil {
		return err
	}
	if *list {
		if len(names) > 0 || *undo {
			fmt.Fprintln(stderr, "meshctl revoke: --list takes no identity")
			return errUsage
		}
		return printRevoked(stdout, *dir)
	}
	if len(names) != 1 {
		fmt.Fprintln(stderr, "meshctl revoke: name one identity (or --list)")
		return errUsage
	}
	id := names[0]
	m, err := matrix.Load(*mpath)
	if err != nil {
		return err
	}
	if _, ok := m.Identity(id); !ok {
		return fmt.Errorf("%q is not an identity of %s", id, *mpath)
	}
	op, err := pki.ReadOperator(*dir)
	if err != nil {
		return err
	}
	now := time.Now()
	l, err := revocation.Update(*dir, op, func(l *revocation.List) (*revocation.List, error) {
		if *undo {
			return l.Undo(id, now)
		}
		return l.Revoke(id, *reason, now)
	})
	if err != nil {
		return err
	}
	if err := writeKeysConf(*dir, m); err != nil {
		return err
	}
	verb := "revoked"
	if *undo {
		verb = "no longer revoked"
	}
	fmt.Fprintf(stdout, "%s is %s (list %d in %s); running processes apply it within seconds\n", id, verb, l.Seq, revocation.File(*dir))
	fmt.Fprintln(stdout, "an external NATS server applies it with: nats-server --signal reload")
	return nil
}

// printRevoked prints dir's list.
func printRevoked(w io.Writer, dir string) error {
	op, err := pki.ReadOperatorPublicKey(dir)
	if err != nil {
		return err
	}
	l, err := revocation.Read(dir, op)
	if err != nil {
		return err
	}
	if len(l.Entries) == 0 {
		fmt.Fprintf(w, "no identity is revoked (list %d)\n", l.Seq)
		return nil
	}
	fmt.Fprintf(w, "list %d, signed %s by the operator key %s\n", l.Seq, l.Issued.Format(time.RFC3339), op)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IDENTITY\tREVOKED\tREASON")
	for _, e := range l.Entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Identity, e.At.Format(time.RFC3339), e.Reason)
	}
	return tw.Flush()
}
