package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

func runInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".mesh", "credentials folder")
	mpath := fs.String("matrix", "deployments/matrix.yaml", "Access & Authorization Matrix")
	rotate := fs.Bool("rotate", false, "replace every key and certificate, the CA's included")
	var sans listFlag
	fs.Var(&sans, "san", "extra host name or IP for the server certificate (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := matrix.Load(*mpath)
	if err != nil {
		return err
	}
	rep, err := pki.Init(*dir, m.Identities(), pki.Options{SANs: sans, Rotate: *rotate})
	if err != nil {
		return err
	}
	if err := writeKeysConf(*dir, m); err != nil {
		return err
	}
	if len(rep.Created) > 0 {
		fmt.Fprintf(stdout, "created in %s: %s\n", *dir, strings.Join(rep.Created, ", "))
	}
	if len(rep.Kept) > 0 {
		fmt.Fprintf(stdout, "kept in %s: %s\n", *dir, strings.Join(rep.Kept, ", "))
	}
	return nil
}
