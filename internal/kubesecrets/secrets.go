package kubesecrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Defaults of Options.
const (
	DefaultPrefix = "hms-svc"
	// KeysFileName is the NATS config include of the public NKeys in the
	// NATS Secret, as meshctl init names it in the credentials folder.
	KeysFileName = "nkeys.conf"
)

// Options say which Secrets to make.
type Options struct {
	// Dir is the credentials folder (".mesh").
	Dir string
	// Prefix starts every Secret's name (DefaultPrefix): IdentitySecret and
	// NATSSecret give the names, which the chart's values must match.
	Prefix string
	// Namespace, when set, is written into every manifest.
	Namespace string
	// Identities limits the identity Secrets to these (all of the
	// matrix's when empty). The NATS Secret is always made.
	Identities []string
}

// Secret is one Secret to make: its name, the identity it is for ("" for
// the NATS servers) and its files by name.
type Secret struct {
	Name     string
	Identity string
	Files    map[string][]byte
}

// IdentitySecret is the name of identity's Secret: "<prefix>-mesh-<identity>".
func IdentitySecret(prefix, identity string) string { return prefix + "-mesh-" + identity }

// NATSSecret is the name of the NATS servers' Secret: "<prefix>-nats-tls".
func NATSSecret(prefix string) string { return prefix + "-nats-tls" }

// prefixRE keeps every name a DNS label (63 characters with the longest
// identity) as Kubernetes requires.
var prefixRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$`)

// Secrets reads the folder and returns the Secrets of m's identities and of
// the NATS servers, identities first in the matrix's order. It names the
// first file that is missing.
func Secrets(m *matrix.Matrix, o Options) ([]Secret, error) {
	if o.Dir == "" {
		o.Dir = ".mesh"
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !prefixRE.MatchString(o.Prefix) {
		return nil, fmt.Errorf("kubesecrets: prefix %q must match %s", o.Prefix, prefixRE)
	}
	ids := o.Identities
	if len(ids) == 0 {
		ids = m.Identities()
	}
	mk, err := m.LoadKeys(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("kubesecrets: %w", err)
	}
	public, err := publicFiles(mk, o.Dir)
	if err != nil {
		return nil, err
	}
	var out []Secret
	for _, id := range ids {
		ident, ok := m.Identity(id)
		if !ok {
			return nil, fmt.Errorf("kubesecrets: identity %q is not in the matrix (it has %v)", id, m.Identities())
		}
		names := []string{filepath.Base(pki.CertFile(o.Dir, id)), filepath.Base(pki.KeyFile(o.Dir, id)), filepath.Base(pki.SeedFile(o.Dir, id))}
		if ident.Kind == matrix.KindBridge {
			// The bridge serves HTTPS with the mesh's server certificate.
			names = append(names, filepath.Base(pki.CertFile(o.Dir, pki.ServerName)), filepath.Base(pki.KeyFile(o.Dir, pki.ServerName)))
		}
		files, err := readFiles(o.Dir, names)
		if err != nil {
			return nil, err
		}
		for k, v := range public {
			files[k] = v
		}
		out = append(out, Secret{Name: IdentitySecret(o.Prefix, id), Identity: id, Files: files})
	}
	files, err := readFiles(o.Dir, []string{
		filepath.Base(pki.CAFile(o.Dir)),
		filepath.Base(pki.CertFile(o.Dir, pki.ServerName)), filepath.Base(pki.KeyFile(o.Dir, pki.ServerName)),
		filepath.Base(pki.CertFile(o.Dir, pki.RouteName)), filepath.Base(pki.KeyFile(o.Dir, pki.RouteName)),
	})
	if err != nil {
		return nil, err
	}
	if files[KeysFileName], err = natsauth.KeysFile(mk, mk.Keys()); err != nil {
		return nil, fmt.Errorf("kubesecrets: %w", err)
	}
	return append(out, Secret{Name: NATSSecret(o.Prefix), Files: files}), nil
}

// publicFiles returns what every identity's Secret holds besides its own
// files: the CA certificate and each identity's public NKey, which a
// process needs to verify the others' call tokens.
func publicFiles(m *matrix.Matrix, dir string) (map[string][]byte, error) {
	names := []string{filepath.Base(pki.CAFile(dir))}
	for _, id := range m.Identities() {
		if _, err := os.Stat(pki.PubFile(dir, id)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			names = append(names, filepath.Base(pki.PubFile(dir, id)))
		}
	}
	return readFiles(dir, names)
}

// readFiles reads the named files of dir, naming the first it cannot read.
// It refuses the CA's key, whatever asks for it.
func readFiles(dir string, names []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		if n == filepath.Base(pki.KeyFile(dir, pki.CAName)) {
			return nil, fmt.Errorf("kubesecrets: %s is the CA's key, which never leaves %s", n, dir)
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("kubesecrets: %w (run meshctl init --dir %s)", err, dir)
		}
		out[n] = data
	}
	return out, nil
}

// keys returns the file names of s, sorted.
func (s Secret) keys() []string {
	ks := make([]string, 0, len(s.Files))
	for k := range s.Files {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
