package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// KeysFileName is the NATS config include meshctl init writes beside the
// keys, for the configs in deployments/nats.
const KeysFileName = "nkeys.conf"

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
	mk, err := m.LoadKeys(*dir)
	if err != nil {
		return err
	}
	keys, err := natsauth.KeysFile(mk, mk.Keys())
	if err != nil {
		return err
	}
	path := filepath.Join(*dir, KeysFileName)
	if err := os.WriteFile(path, keys, pki.PublicMode); err != nil {
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
