package natsauth

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// VarName is the config variable that holds identity's public NKey in a
// KeysFile: "NKEY_FEE_CALC" for "fee-calc".
func VarName(identity string) string {
	return "NKEY_" + strings.ToUpper(strings.ReplaceAll(identity, "-", "_"))
}

// KeysFile renders the NATS config include that defines every identity's
// public NKey as a variable (VarName). meshctl init writes it as
// ".mesh/nkeys.conf" for the configs in deployments/nats.
func KeysFile(m *matrix.Matrix, keys map[string]string) ([]byte, error) {
	if _, err := Users(m, keys); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("# Public NKeys of the mesh identities, included by deployments/nats/*.conf.\n")
	b.WriteString("# Written by `meshctl init`; public keys only, no secret.\n")
	for _, id := range m.Identities() {
		fmt.Fprintf(&b, "%s: %q\n", VarName(id), keys[id])
	}
	return []byte(b.String()), nil
}

// Config renders the NATS server config for m: TLS with verified client
// certificates, JetStream, one NKey user per identity with its Permissions,
// and for a cluster node, TLS routes that accept only the route certificate.
// Without KeysInclude, keys must hold every identity's public NKey.
func Config(m *matrix.Matrix, keys map[string]string, o ConfigOptions) ([]byte, error) {
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.KeysInclude == "" {
		if _, err := Users(m, keys); err != nil {
			return nil, err
		}
	}
	w := &confWriter{}
	w.line("# HMS-SVC NATS server config, generated from the Access & Authorization Matrix")
	w.line("# by `meshctl nats-config`. Do not edit: change the matrix and regenerate.")
	w.line("# Paths are relative to the directory nats-server runs in (the repo root).")
	if o.KeysInclude != "" {
		w.line("")
		w.line("# Public NKeys (NKEY_<IDENTITY> variables), written by `meshctl init`.")
		w.line("include " + quote(o.KeysInclude))
	}
	n := o.resolve()
	w.line("")
	w.line("server_name: " + quote(n.name))
	w.line(fmt.Sprintf("listen: %s", quote(net.JoinHostPort(o.Host, strconv.Itoa(n.clientPort)))))
	if n.monPort != 0 {
		w.line("# Monitoring (/varz, /jsz, /healthz) has no authentication: loopback only.")
		w.line(fmt.Sprintf("http: %s", quote(net.JoinHostPort("127.0.0.1", strconv.Itoa(n.monPort)))))
	}
	w.line("")
	writeJetStream(w, o.StoreDir)
	w.line("")
	w.line("# mTLS: every client presents a certificate signed by the mesh CA.")
	writeTLS(w, ServerFiles(o.Dir), "verify: true")
	if c := o.Cluster; c != nil {
		writeCluster(w, o.Dir, o.Host, c.Name, n)
	}
	w.line("")
	if err := writeAuthorization(w, m, keys, o.KeysInclude != ""); err != nil {
		return nil, err
	}
	return []byte(w.String()), nil
}

// Authorization renders the authorization block of Config alone, for a
// server config written elsewhere (the Helm chart's) to include: one NKey
// user per identity of m with its Permissions, each key named by its
// variable (VarName), defined by the KeysFile it includes first from
// keysInclude (relative to the including config). A NATS config sees the
// variables of an include only in the file that includes it, hence the
// include here. It holds no key, so it can be kept beside the matrix.
func Authorization(m *matrix.Matrix, keysInclude string) ([]byte, error) {
	if keysInclude == "" || strings.ContainsAny(keysInclude, "\"\\\n\r") {
		return nil, fmt.Errorf("natsauth: keys include %q must be a path a NATS config string can hold", keysInclude)
	}
	w := &confWriter{}
	w.line("# HMS-SVC NATS authorization, generated from the Access & Authorization Matrix")
	w.line("# by `meshctl nats-config --authorization-only`. Do not edit: change the matrix")
	w.line("# and regenerate.")
	w.line("")
	w.line("# Public NKeys (NKEY_<IDENTITY> variables), written by `meshctl init`.")
	w.line("include " + quote(keysInclude))
	w.line("")
	if err := writeAuthorization(w, m, nil, true); err != nil {
		return nil, err
	}
	return []byte(w.String()), nil
}

// writeAuthorization writes the users of m, their keys from keys or, with
// byVar, as the variables of a KeysFile.
func writeAuthorization(w *confWriter, m *matrix.Matrix, keys map[string]string, byVar bool) error {
	w.line("# One NKey user per identity; no anonymous user, no no_auth_user.")
	w.line("# No permission allows purging or deleting a stream or a stream message.")
	w.open("authorization {")
	w.open("users: [")
	for _, id := range m.Identities() {
		ident, _ := m.Identity(id)
		perms, err := Permissions(m, id)
		if err != nil {
			return err
		}
		key := quote(keys[id])
		if byVar {
			key = "$" + VarName(id)
		}
		w.line(fmt.Sprintf("# %s (%s)", id, ident.Kind))
		w.open("{")
		w.line("nkey: " + key)
		writePermissions(w, perms)
		w.close("}")
	}
	w.close("]")
	w.close("}")
	return nil
}

func writeTLS(w *confWriter, f TLSFiles, verify string) {
	w.open("tls {")
	w.line("cert_file: " + quote(f.Cert))
	w.line("key_file: " + quote(f.Key))
	w.line("ca_file: " + quote(f.CA))
	w.line(verify)
	w.line(fmt.Sprintf("timeout: %d", TLSTimeout))
	w.close("}")
}

// writeJetStream writes the jetstream block. Every write is synced to disk
// before it is acknowledged.
func writeJetStream(w *confWriter, storeDir string) {
	w.open("jetstream {")
	w.line("store_dir: " + quote(storeDir))
	w.line("# Sync every write to disk before acknowledging it. The NATS default")
	w.line("# (sync every 2 minutes) acknowledges writes still in the page cache, so a")
	w.line("# power loss or a kernel crash on a majority of nodes can lose records the")
	w.line("# mesh was told are stored: the Jepsen analysis of NATS 2.12.1 lost")
	w.line("# acknowledged writes that way (https://jepsen.io/analyses/nats-2.12.1).")
	w.line("# The cost is one fsync per write: AUDIT and the payment ledger need it;")
	w.line("# trace events pay it too.")
	w.line("sync_interval: always")
	w.close("}")
}

func writeCluster(w *confWriter, dir, host, name string, n node) {
	w.line("")
	w.line("# Routes use TLS both ways and accept only the route certificate")
	w.line("# (URI " + pki.RouteURI.String() + "), never an identity's.")
	w.open("cluster {")
	w.line("name: " + quote(name))
	w.line("listen: " + quote(net.JoinHostPort(host, strconv.Itoa(n.routePort))))
	routes := make([]string, len(n.routes))
	for i, r := range n.routes {
		routes[i] = quote(r)
	}
	w.line("routes: [" + strings.Join(routes, ", ") + "]")
	writeTLS(w, RouteFiles(dir), "verify_and_map: true")
	w.open("authorization {")
	w.line("user: " + quote(pki.RouteURI.String()))
	w.close("}")
	w.close("}")
}

func writePermissions(w *confWriter, p *server.Permissions) {
	w.open("permissions: {")
	for _, sp := range []struct {
		name string
		perm *server.SubjectPermission
	}{{"publish", p.Publish}, {"subscribe", p.Subscribe}} {
		if sp.perm == nil {
			continue
		}
		w.open(sp.name + ": {")
		writeList(w, "allow", sp.perm.Allow)
		writeList(w, "deny", sp.perm.Deny)
		w.close("}")
	}
	if r := p.Response; r != nil {
		w.line(fmt.Sprintf("allow_responses: {max: %d, expires: %q}", r.MaxMsgs, r.Expires.String()))
	}
	w.close("}")
}

func writeList(w *confWriter, name string, items []string) {
	if len(items) == 0 {
		return
	}
	w.open(name + ": [")
	for _, s := range items {
		w.line(quote(s))
	}
	w.close("]")
}

// quote renders s as a NATS config string. Callers pass subjects, paths and
// keys, which hold no quote or backslash (validate refuses paths that do).
func quote(s string) string { return `"` + s + `"` }

type confWriter struct {
	strings.Builder
	depth int
}

func (w *confWriter) line(s string) {
	if s != "" {
		w.WriteString(strings.Repeat("  ", w.depth))
	}
	w.WriteString(s)
	w.WriteByte('\n')
}

func (w *confWriter) open(s string)  { w.line(s); w.depth++ }
func (w *confWriter) close(s string) { w.depth--; w.line(s) }
