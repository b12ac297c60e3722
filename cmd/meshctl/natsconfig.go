package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

func runNATSConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl nats-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".mesh", "credentials folder, as the server sees it")
	mpath := fs.String("matrix", "deployments/matrix.yaml", "Access & Authorization Matrix")
	include := fs.String("keys-include", "", "read public NKeys from this include (relative to the config file) instead of writing them in")
	host := fs.String("host", "127.0.0.1", "host the server listens on")
	port := fs.Int("port", 4222, "client port (node i of a cluster uses port+i-1)")
	storeDir := fs.String("store-dir", "", "JetStream store (default <dir>/data/nats[-<node>])")
	size := fs.Int("cluster-size", 0, "render a node of a cluster of this many nodes")
	node := fs.Int("cluster-node", 1, "which node of the cluster (1-based)")
	routePort := fs.Int("route-port", 6222, "route port of node 1 (node i uses route-port+i-1); with --cluster-host, of every node")
	var hosts listFlag
	fs.Var(&hosts, "cluster-host", "host of cluster node 1, 2, ... in order, each on a machine of its own (repeatable; sets --cluster-size)")
	authOnly := fs.Bool("authorization-only", false, "print only the authorization block (users and permissions, keys as NKEY_<IDENTITY> variables from --keys-include, default nkeys.conf), as the Helm chart includes it")
	deploy := fs.String("write-deployments", "", "write single.conf and cluster-1..3.conf into this folder (they include ../../.mesh/nkeys.conf)")
	if err := parse(fs, args); err != nil {
		return err
	}
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
	opts := natsauth.ConfigOptions{Dir: *dir, KeysInclude: *include, Host: *host, Port: *port, StoreDir: *storeDir}
	if *size > 0 || len(hosts) > 0 {
		opts.Cluster = &natsauth.ClusterOptions{Size: *size, Node: *node, RoutePort: *routePort, Hosts: hosts}
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
