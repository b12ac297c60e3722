package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// runRotate replaces credentials while the mesh runs: the NKeys and
// certificates of identities, or the CA.
func runRotate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: meshctl rotate [flags] IDENTITY... | --all | --ca | --retire-old-ca

Replaces credentials while the mesh runs; running processes pick them up
within seconds, without a restart. IDENTITY (or server, route) gets a new
NKey and certificate key; --all rotates every identity and the server and
route certificates; --ca makes a new CA, trusted next to the old one, and
signs every certificate again with it; --retire-old-ca then stops trusting
the old CA.

`)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", ".mesh", "credentials folder")
	mpath := fs.String("matrix", "deployments/matrix.yaml", "Access & Authorization Matrix")
	all := fs.Bool("all", false, "rotate every identity and the server and route certificates")
	ca := fs.Bool("ca", false, "replace the CA (and sign every certificate again with the new one)")
	retire := fs.Bool("retire-old-ca", false, "stop trusting the CA a --ca rotation replaced")
	wait := fs.Duration("wait", pki.DefaultRotateWait, "pause between publishing new keys or a new CA and using them (processes poll every second)")
	overlap := fs.Duration("overlap", pki.DefaultOverlap, "how long replaced NKeys stay accepted (at least "+pki.MinOverlap.String()+")")
	names, err := parseWithNames(fs, args)
	if err != nil {
		return err
	}
	modes := len(slices.DeleteFunc([]bool{len(names) > 0, *all, *ca, *retire}, func(b bool) bool { return !b }))
	if modes != 1 {
		fmt.Fprintln(stderr, "meshctl rotate: name the identities to rotate, or give one of --all, --ca, --retire-old-ca")
		return errUsage
	}
	m, err := matrix.Load(*mpath)
	if err != nil {
		return err
	}
	leaves := append([]string{pki.ServerName, pki.RouteName}, m.Identities()...)
	opts := pki.RotateOptions{Wait: *wait, Overlap: *overlap}
	var rep *pki.Report
	switch {
	case *retire:
		retired, err := pki.RetireOldCA(*dir, leaves)
		if err != nil {
			return err
		}
		if !retired {
			fmt.Fprintf(stdout, "%s trusts one CA only: nothing to retire\n", pki.CAFile(*dir))
			return nil
		}
		fmt.Fprintf(stdout, "retired the old CA: %s trusts the current CA only\n", pki.CAFile(*dir))
		return nil
	case *ca:
		if rep, err = pki.RotateCA(*dir, leaves, opts); err != nil {
			return err
		}
	default:
		if *all {
			names = leaves
		}
		for _, n := range names {
			if _, ok := m.Identity(n); !ok && n != pki.ServerName && n != pki.RouteName {
				return fmt.Errorf("%q is not an identity of %s (nor server or route)", n, *mpath)
			}
		}
		if rep, err = pki.Rotate(*dir, names, opts); err != nil {
			return err
		}
	}
	if err := writeKeysConf(*dir, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rotated in %s: %s\n", *dir, strings.Join(rep.Created, ", "))
	if *ca {
		fmt.Fprintln(stdout, "the old CA is still trusted; once every process has reloaded, run: meshctl rotate --retire-old-ca")
	} else {
		fmt.Fprintf(stdout, "the replaced NKeys are accepted until %s\n", time.Now().Add(*overlap).UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(stdout, "an external NATS server takes the new keys with: nats-server --signal reload")
	return nil
}

// parseWithNames parses flags given before, between or after names, and
// returns the names.
func parseWithNames(fs *flag.FlagSet, args []string) ([]string, error) {
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return names, nil
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
