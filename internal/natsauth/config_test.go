package natsauth_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
)

// loadConfig writes conf (and the keys include beside the credentials) in
// a tree like the repo's and has nats-server parse it from the tree's root.
func loadConfig(t *testing.T, conf []byte) *server.Options {
	t.Helper()
	root := t.TempDir()
	confDir := filepath.Join(root, "deployments", "nats")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(root, ".mesh")); err != nil {
		t.Fatal(err)
	}
	keys, err := natsauth.KeysFile(demo, demo.Keys())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nkeys.conf"), keys, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(confDir, "test.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats-server refuses the config: %v\n%s", err, conf)
	}
	return opts
}

func TestConfigSaysWhatApplyDoes(t *testing.T) {
	tests := []struct {
		name string
		opts natsauth.ConfigOptions
	}{
		{"single, keys inline", natsauth.ConfigOptions{}},
		{"single, keys included", natsauth.ConfigOptions{KeysInclude: "../../.mesh/nkeys.conf"}},
		{"cluster node 2", natsauth.ConfigOptions{KeysInclude: "../../.mesh/nkeys.conf", Cluster: &natsauth.ClusterOptions{Node: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := natsauth.Config(demo, demo.Keys(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := loadConfig(t, conf)
			want := &server.Options{}
			if err := natsauth.Apply(want, demo, demo.Keys(), natsauth.ServerFiles(".mesh")); err != nil {
				t.Fatal(err)
			}
			for name, o := range map[string]*server.Options{"config": got, "Apply": want} {
				if o.TLSConfig == nil || o.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || o.TLSMap {
					t.Errorf("%s: TLS does not require verified client certificates", name)
				}
			}
			if got.NoAuthUser != "" || got.Username != "" || got.Authorization != "" || len(got.Users) != 0 {
				t.Errorf("config has a non-NKey way in: no_auth_user %q, user %q, token set %v, users %d",
					got.NoAuthUser, got.Username, got.Authorization != "", len(got.Users))
			}
			if len(got.Nkeys) != len(want.Nkeys) {
				t.Fatalf("config has %d NKey users, Apply %d", len(got.Nkeys), len(want.Nkeys))
			}
			for i, u := range got.Nkeys {
				w := want.Nkeys[i]
				if u.Nkey != w.Nkey {
					t.Errorf("user %d: nkey %s, want %s", i, u.Nkey, w.Nkey)
				}
				if !reflect.DeepEqual(u.Permissions, w.Permissions) {
					t.Errorf("user %s: config permissions\n%+v\nwant\n%+v", u.Nkey, u.Permissions, w.Permissions)
				}
			}
			if tt.opts.Cluster != nil {
				c := got.Cluster
				if c.Port != 6223 || len(got.Routes) != 2 || !c.TLSMap || c.Username != pki.RouteURI.String() || c.TLSConfig == nil {
					t.Errorf("cluster = port %d, %d routes, map %v, user %q; want 6223, 2, true, the route URI",
						c.Port, len(got.Routes), c.TLSMap, c.Username)
				}
			}
		})
	}
}

// The configs in deployments/nats are what `meshctl nats-config` renders
// from the committed matrix today.
func TestCommittedConfigsAreCurrent(t *testing.T) {
	for name, opts := range natsauth.DeploymentConfigs() {
		t.Run(name, func(t *testing.T) {
			want, err := natsauth.Config(demo, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join("../../deployments/nats", name))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("deployments/nats/%s is stale: regenerate it (see deployments/nats/README.md)", name)
			}
		})
	}
}

// The authorization block alone is what the full config holds, keys named
// by their variables; the Helm chart's copy is current.
func TestAuthorizationIsConfigsBlock(t *testing.T) {
	auth, err := natsauth.Authorization(demo, "nkeys.conf")
	if err != nil {
		t.Fatal(err)
	}
	full, err := natsauth.Config(demo, nil, natsauth.ConfigOptions{KeysInclude: "nkeys.conf"})
	if err != nil {
		t.Fatal(err)
	}
	block := string(auth[strings.Index(string(auth), "# One NKey user"):])
	if !strings.HasSuffix(string(full), block) || !strings.Contains(block, "nkey: $NKEY_FEE_CALC") || !strings.Contains(string(auth), "include \"nkeys.conf\"") {
		t.Errorf("Authorization is not the end of Config's output:\n%.400s", block)
	}
	if _, err := natsauth.Authorization(demo, ""); err == nil {
		t.Error("Authorization without a keys include: no error")
	}
	got, err := os.ReadFile("../../deployments/helm/hms-svc/files/nats-authorization.conf")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(auth) {
		t.Error("deployments/helm/hms-svc/files/nats-authorization.conf is stale: regenerate it with " +
			"go run ./cmd/meshctl nats-config --authorization-only > deployments/helm/hms-svc/files/nats-authorization.conf")
	}
}

func TestConfigRefuses(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[string]string
		opts    natsauth.ConfigOptions
		wantErr string
	}{
		{"missing key", map[string]string{}, natsauth.ConfigOptions{}, "no public NKey"},
		{"bad node", demo.Keys(), natsauth.ConfigOptions{Cluster: &natsauth.ClusterOptions{Node: 4}}, "cluster node"},
		{"quote in path", demo.Keys(), natsauth.ConfigOptions{Dir: `a"b`}, "character"},
		{"client port out of range", demo.Keys(), natsauth.ConfigOptions{Port: 70000}, "client port 70000 is not in [1,65535]"},
		{"monitoring on the client port", demo.Keys(), natsauth.ConfigOptions{Port: 4301, MonitorPort: 4301}, "monitoring port 4301 is also the client port"},
		{"node past the last port", demo.Keys(), natsauth.ConfigOptions{Port: 65534, Cluster: &natsauth.ClusterOptions{Node: 1, Size: 3}},
			"client port 65534: node 3 would listen on 65536"},
		{"nodes' ports overlap", demo.Keys(), natsauth.ConfigOptions{Port: 4301, Cluster: &natsauth.ClusterOptions{Node: 1, Size: 3, RoutePort: 4302}},
			"node 1's route port and node 2's client port would both be port 4302"},
		{"bad server name", demo.Keys(), natsauth.ConfigOptions{ServerName: "nats one"}, `server name "nats one"`},
		{"blank store dir", demo.Keys(), natsauth.ConfigOptions{StoreDir: " data"}, `store dir " data"`},
		{"route scheme", demo.Keys(), natsauth.ConfigOptions{ServerName: "b", Cluster: &natsauth.ClusterOptions{Routes: []string{"http://10.0.0.1:6222"}}},
			`route URL "http://10.0.0.1:6222": the scheme must be nats-route://`},
		{"route with credentials", demo.Keys(), natsauth.ConfigOptions{ServerName: "b", Cluster: &natsauth.ClusterOptions{Routes: []string{"nats-route://u:p@10.0.0.1:6222"}}},
			"must not carry credentials"},
		{"route without port", demo.Keys(), natsauth.ConfigOptions{ServerName: "b", Cluster: &natsauth.ClusterOptions{Routes: []string{"nats-route://10.0.0.1"}}},
			`route URL "nats-route://10.0.0.1": want nats-route://HOST:PORT`},
		{"routes and a node", demo.Keys(), natsauth.ConfigOptions{ServerName: "b", Cluster: &natsauth.ClusterOptions{Node: 2, Size: 3, Routes: []string{"nats-route://10.0.0.1:6222"}}},
			"not both"},
		{"routes without a name", demo.Keys(), natsauth.ConfigOptions{Cluster: &natsauth.ClusterOptions{Routes: []string{"nats-route://10.0.0.1:6222"}}},
			"needs its own server name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := natsauth.Config(demo, tt.keys, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// A node of a cluster across hosts listens on exactly the ports it is
// given and routes to the peers named.
func TestConfigNodeAcrossHosts(t *testing.T) {
	peers := []string{"nats-route://10.0.0.1:7222", "nats-route://10.0.0.3:7222"}
	conf, err := natsauth.Config(demo, demo.Keys(), natsauth.ConfigOptions{
		Port: 5222, MonitorPort: 9222, ServerName: "nats-b", StoreDir: "/var/lib/hms-svc/nats",
		Cluster: &natsauth.ClusterOptions{RoutePort: 7222, Routes: peers},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := loadConfig(t, conf)
	var routes []string
	for _, r := range got.Routes {
		routes = append(routes, r.String())
	}
	if got.Port != 5222 || got.HTTPPort != 9222 || got.HTTPHost != "127.0.0.1" || got.ServerName != "nats-b" ||
		got.StoreDir != "/var/lib/hms-svc/nats" || got.Cluster.Port != 7222 || !reflect.DeepEqual(routes, peers) || !got.SyncAlways {
		t.Errorf("port %d, monitoring %s:%d, name %q, store %q, route port %d, routes %v, sync always %v",
			got.Port, got.HTTPHost, got.HTTPPort, got.ServerName, got.StoreDir, got.Cluster.Port, routes, got.SyncAlways)
	}
}
