package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hms-svc/hms-svc/internal/cli"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

const usage = `usage: meshctl <command> [flags]

commands:
  init         create or complete the credentials folder (CA, certificates, NKeys)
  rotate       replace NKeys, certificates or the CA while the mesh runs
  revoke       revoke an identity (or --undo, --list): refused everywhere within seconds
  nats-config  print the NATS server config generated from the matrix
  provision    create or update every JetStream store of the mesh (as the provisioner)
  k8s-secrets  print or write the credentials as Kubernetes Secrets, one per identity
  ready        wait until the bridge is ready and services have instances
  trace        print trace events live (tail) or one trace (show)
  audit        verify the AUDIT stream's hash chain (verify)
  version      print meshctl's version (also --version)

Run "meshctl <command> -h" for a command's flags.
`

// run executes one meshctl command and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "init":
		err = runInit(args[1:], stdout, stderr)
	case "rotate":
		err = runRotate(args[1:], stdout, stderr)
	case "revoke":
		err = runRevoke(args[1:], stdout, stderr)
	case "nats-config":
		err = runNATSConfig(args[1:], stdout, stderr)
	case "provision":
		err = runProvision(args[1:], stdout, stderr)
	case "k8s-secrets":
		err = runK8sSecrets(args[1:], stdout, stderr)
	case "ready":
		err = runReady(args[1:], stdout, stderr)
	case "trace":
		err = runTrace(args[1:], stdout, stderr)
	case "audit":
		err = runAudit(args[1:], stdout, stderr)
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, cli.Version("meshctl"))
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "meshctl: unknown command %q\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "meshctl:", err)
		return 1
	}
	return 0
}

// errUsage is returned for bad flags, already reported by the flag set.
var errUsage = errors.New("usage")

// envAliases name the variable of a flag whose name alone would say too
// little; every other flag's is cli.EnvName's.
var envAliases = map[string]string{"dir": mesh.EnvMeshDir}

// parse parses a command's flags, then the HMS_* environment and the
// --config file under them (cli.Parse).
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return errUsage
	}
	return nil
}

// parseFlags is parse for a command that takes arguments too.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var common cli.Common
	common.Register(fs)
	err := cli.Parse(fs, args, &common, envAliases)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return err
	case errors.Is(err, cli.ErrSource):
		fmt.Fprintln(fs.Output(), err)
	}
	return errUsage
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
