package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// Every listener, the name, the store and the peers of the config are set
// by flags, and nats-server reads them back as given.
func TestNATSConfigFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".mesh")
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	store := filepath.Join(t.TempDir(), "js")
	conf, code := meshctl(t, "nats-config", "--dir", dir, "--matrix", matrixPath,
		"--port", "5301", "--route-port", "7301", "--http-port", "9301", "--server-name", "nats-b", "--store-dir", store,
		"--routes", "nats-route://127.0.0.1:7302,nats-route://127.0.0.1:7303")
	if code != 0 {
		t.Fatalf("nats-config: %d %s", code, conf)
	}
	opts := serverOptions(t, conf)
	var routes []string
	for _, r := range opts.Routes {
		routes = append(routes, r.String())
	}
	if opts.Port != 5301 || opts.Cluster.Port != 7301 || opts.HTTPPort != 9301 || opts.HTTPHost != "127.0.0.1" ||
		opts.ServerName != "nats-b" || opts.StoreDir != store || !opts.SyncAlways ||
		!slices.Equal(routes, []string{"nats-route://127.0.0.1:7302", "nats-route://127.0.0.1:7303"}) {
		t.Errorf("client %d, route %d, monitoring %s:%d, name %q, store %q, sync always %v, routes %v",
			opts.Port, opts.Cluster.Port, opts.HTTPHost, opts.HTTPPort, opts.ServerName, opts.StoreDir, opts.SyncAlways, routes)
	}
}

// serverOptions has nats-server read conf as a config file.
func serverOptions(t *testing.T, conf string) *server.Options {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats-server refuses the printed config: %v\n%s", err, conf)
	}
	return opts
}

// A bad flag value is refused with a message naming it; nothing is printed.
func TestNATSConfigRefusesBadValues(t *testing.T) {
	base := []string{"nats-config", "--matrix", matrixPath, "--keys-include", "nkeys.conf"}
	tests := []struct {
		name    string
		args    []string
		wantOut string
	}{
		{"client port", []string{"--port", "0"}, "--port 0"},
		{"client port too high", []string{"--port", "65536"}, "client port 65536 is not in [1,65535]"},
		{"monitoring port", []string{"--http-port", "-3"}, "monitoring port -3 is not in [1,65535]"},
		{"monitoring on the client port", []string{"--port", "4301", "--http-port", "4301"}, "monitoring port 4301 is also the client port"},
		{"route port without a cluster", []string{"--route-port", "6301"}, "--route-port and --cluster-node are for a cluster"},
		{"overlapping nodes", []string{"--cluster-size", "3", "--port", "4301", "--route-port", "4303"},
			"node 1's route port and node 3's client port would both be port 4303"},
		{"server name", []string{"--server-name", "a.b"}, `server name "a.b"`},
		{"route URL", []string{"--server-name", "b", "--routes", "tls://10.0.0.1:6222"}, `route URL "tls://10.0.0.1:6222"`},
		{"routes and a size", []string{"--server-name", "b", "--cluster-size", "3", "--routes", "nats-route://10.0.0.1:6222"}, "not both"},
		{"routes without a name", []string{"--routes", "nats-route://10.0.0.1:6222"}, "needs its own server name"},
		{"store dir", []string{"--store-dir", "a\"b"}, `"a\"b" holds a character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := meshctl(t, append(slices.Clone(base), tt.args...)...)
			if code != 1 || !strings.Contains(out, tt.wantOut) || strings.Contains(out, "server_name") {
				t.Errorf("exit %d %q; want 1 naming %q and no config", code, out, tt.wantOut)
			}
		})
	}
}
