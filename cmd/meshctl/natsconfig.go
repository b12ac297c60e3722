package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

const natsConfigUsage = `usage: meshctl nats-config [flags]

Prints the NATS server config generated from the matrix: mTLS, one NKey user
per identity with its permissions, JetStream syncing every write to disk.

  one server:                 meshctl nats-config [--port 4222] [--http-port 8222]
  a cluster on one host:      meshctl nats-config --cluster-size 3 --cluster-node 2
                              (node i listens on --port, --route-port and --http-port plus i-1)
  a node of a cluster across hosts:
                              meshctl nats-config --server-name nats-b --host 10.0.0.2 \
                                --routes nats-route://10.0.0.1:6222,nats-route://10.0.0.3:6222
  the committed examples:     meshctl nats-config --write-deployments deployments/nats

flags:
`

func runNATSConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl nats-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, natsConfigUsage); fs.PrintDefaults() }
	dir := fs.String("dir", ".mesh", "credentials folder, as the server sees it")
	mpath := fs.String("matrix", "deployments/matrix.yaml", "Access & Authorization Matrix")
	include := fs.String("keys-include", "", "read public NKeys from this include (relative to the config file) instead of writing them in")
	host := fs.String("host", "127.0.0.1", "host the server listens on for clients and routes")
	port := fs.Int("port", natsauth.DefaultClientPort, "client port (node i of a cluster on one host uses port+i-1)")
	routePort := fs.Int("route-port", natsauth.DefaultRoutePort, "cluster route port (node i of a cluster on one host uses route-port+i-1)")
	httpPort := fs.Int("http-port", 0, "monitoring port, on 127.0.0.1 only (0: no monitoring; node i of a cluster on one host uses http-port+i-1)")
	name := fs.String("server-name", "", `server name (default "hms-svc", "hms-svc-<node>" on one host; required with --routes)`)
	storeDir := fs.String("store-dir", "", "JetStream store (default <dir>/data/nats[-<node>])")
	size := fs.Int("cluster-size", 0, "render a node of a cluster of this many nodes on one host")
	node := fs.Int("cluster-node", 1, "which node of the cluster on one host (1-based)")
	var routes listFlag
	fs.Var(&routes, "routes", "route URLs of the other nodes of a cluster across hosts, comma-separated (repeatable)")
	authOnly := fs.Bool("authorization-only", false, "print only the authorization block (users and permissions, keys as NKEY_<IDENTITY> variables from --keys-include, default nkeys.conf), as the Helm chart includes it")
	deploy := fs.String("write-deployments", "", "write single.conf and cluster-1..3.conf into this folder (they include ../../.mesh/nkeys.conf)")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	m, err := matrix.Load(*mpath)
	if err != nil {
		return err
	}
	if *deploy != "" {
		return writeDeployments(m, *deploy, stdout)
	}
	if *authOnly {
		if *include == "" {
			*include = "nkeys.conf"
		}
		conf, err := natsauth.Authorization(m, *include)
		if err != nil {
			return err
		}
		_, err = stdout.Write(conf)
		return err
	}
	opts := natsauth.ConfigOptions{Dir: *dir, KeysInclude: *include, Host: *host, Port: *port,
		MonitorPort: *httpPort, ServerName: *name, StoreDir: *storeDir}
	peers := splitList(routes)
	switch {
	case *size > 0 && len(peers) > 0:
		return fmt.Errorf("--cluster-size %d with --routes %s: give --routes for a cluster across hosts, or --cluster-size for one on this host, not both",
			*size, strings.Join(peers, ","))
	case *size > 0:
		opts.Cluster = &natsauth.ClusterOptions{Size: *size, Node: *node, RoutePort: *routePort}
	case len(peers) > 0:
		opts.Cluster = &natsauth.ClusterOptions{RoutePort: *routePort, Routes: peers}
	case set["route-port"] || set["cluster-node"]:
		return fmt.Errorf("--route-port and --cluster-node are for a cluster: add --cluster-size N or --routes URL,...")
	}
	if set["port"] && *port == 0 {
		return fmt.Errorf("--port 0: give a port in [1,65535]")
	}
	var keys map[string]string
	if *include == "" {
		mk, err := m.LoadKeys(*dir)
		if err != nil {
			return err
		}
		keys = mk.Keys()
	}
	conf, err := natsauth.Config(m, keys, opts)
	if err != nil {
		return err
	}
	_, err = stdout.Write(conf)
	return err
}

// splitList splits each comma-separated value of a repeatable flag.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func writeDeployments(m *matrix.Matrix, dir string, stdout io.Writer) error {
	configs := natsauth.DeploymentConfigs()
	for _, name := range slices.Sorted(maps.Keys(configs)) {
		conf, err := natsauth.Config(m, nil, configs[name])
		if err != nil {
			return err
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, conf, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", path)
	}
	return nil
}
