package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/hms-svc/hms-svc/internal/kubesecrets"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

func runK8sSecrets(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl k8s-secrets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o kubesecrets.Options
	var ids listFlag
	fs.StringVar(&o.Dir, "dir", ".mesh", "credentials folder written by meshctl init")
	mpath := fs.String("matrix", "deployments/matrix.yaml", "Access & Authorization Matrix")
	fs.StringVar(&o.Prefix, "prefix", kubesecrets.DefaultPrefix, "start of every Secret's name (the chart's secretPrefix)")
	fs.StringVar(&o.Namespace, "namespace", "", "namespace written into every Secret (none when empty: kubectl's -n decides)")
	fs.Var(&ids, "identity", "make only this identity's Secret (repeatable; default every identity of the matrix); the NATS Secret is always made")
	out := fs.String("out", "", "write one <name>.yaml per Secret into this folder (mode 0600) instead of printing them")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := matrix.Load(*mpath)
	if err != nil {
		return err
	}
	o.Identities = ids
	secrets, err := kubesecrets.Secrets(m, o)
	if err != nil {
		return err
	}
	if *out == "" {
		y, err := kubesecrets.Render(secrets, o.Namespace)
		if err != nil {
			return err
		}
		_, err = stdout.Write(y)
		return err
	}
	paths, err := kubesecrets.WriteFiles(secrets, o.Namespace, *out)
	for _, p := range paths {
		fmt.Fprintln(stdout, "wrote", p)
	}
	return err
}
