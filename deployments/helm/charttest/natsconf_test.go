package charttest

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/kubesecrets"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// The NATS config the chart renders is one nats-server accepts, as a node of
// the StatefulSet sees it: /etc/nats holding the chart's ConfigMap and the
// NATS Secret of meshctl k8s-secrets (projected together), POD_NAME naming
// the server. Its absolute paths are moved into a temporary folder, the
// only change; the server is not started, since its routes name cluster
// hosts.
func TestNATSConfigParses(t *testing.T) {
	m, err := matrix.Load("../../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var natsSecret map[string][]byte
	for _, s := range testSecrets(t) {
		if s.Name == kubesecrets.NATSSecret(kubesecrets.DefaultPrefix) {
			natsSecret = s.Data
		}
	}
	t.Setenv("POD_NAME", "hms-svc-nats-1")
	for name, files := range valueSets {
		r := renderSet(t, files)
		base := filepath.Join(root, name)
		etc := filepath.Join(base, "etc", "nats")
		if err := os.MkdirAll(etc, 0o700); err != nil {
			t.Fatal(err)
		}
		writeFiles(t, etc, natsSecret)
		for _, cm := range r.configs {
			if cm.Name != "hms-svc-nats-config" {
				continue
			}
			for file, text := range cm.Data {
				for _, p := range []string{"/etc/nats/", "/data/", "/var/run/nats/"} {
					text = strings.ReplaceAll(text, `"`+p, `"`+filepath.Join(base, p)+"/")
				}
				writeFiles(t, etc, map[string][]byte{file: []byte(text)})
			}
		}
		o, err := server.ProcessConfigFile(filepath.Join(etc, "nats.conf"))
		if err != nil {
			t.Fatalf("%s: nats-server refuses the chart's config: %v", name, err)
		}
		switch {
		case o.ServerName != "hms-svc-nats-1":
			t.Errorf("server_name %q, want the pod's name", o.ServerName)
		case !o.JetStream || o.StoreDir != filepath.Join(base, "data", "jetstream"):
			t.Errorf("JetStream %v in %q", o.JetStream, o.StoreDir)
		case o.TLSConfig == nil || o.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert:
			t.Error("clients are not required to present a certificate")
		case len(o.Routes) != 3 || o.Routes[2].Host != "hms-svc-nats-2.hms-svc-nats-headless:6222":
			t.Errorf("routes %v, want the 3 nodes by their headless names", o.Routes)
		case !o.Cluster.TLSMap || o.Cluster.TLSConfig == nil:
			t.Error("routes do not require the route certificate")
		case !o.Cluster.NoAdvertise:
			t.Error("the cluster advertises the pods' addresses to clients, which the server certificate does not name")
		case len(o.Nkeys) != len(m.Identities()) || len(o.Users) != 0 || o.NoAuthUser != "":
			t.Errorf("%d NKey users, %d other users, no_auth_user %q; want one NKey user per identity (%d) and no other",
				len(o.Nkeys), len(o.Users), o.NoAuthUser, len(m.Identities()))
		case o.LameDuckDuration.Seconds() != 30:
			t.Errorf("lame duck %v, want 30s", o.LameDuckDuration)
		}
		for _, u := range o.Nkeys {
			if u.Permissions == nil || u.Permissions.Publish == nil {
				t.Errorf("NKey user %s has no publish permissions", u.Nkey)
			}
		}
	}
}
