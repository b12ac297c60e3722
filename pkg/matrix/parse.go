package matrix

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/nats-io/nkeys"
	"go.yaml.in/yaml/v3"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// Version is the matrix file format this package reads.
const Version = 1

// reservedIdentities are names the credentials folder uses for its own files.
var reservedIdentities = map[string]bool{"ca": true, "server": true, "route": true, "operator": true, "ca-next": true}

type fileMatrix struct {
	Version    int                      `yaml:"version"`
	Identities map[string]*fileIdentity `yaml:"identities"`
}

type fileIdentity struct {
	Kind      Kind                `yaml:"kind"`
	Calls     map[string][]string `yaml:"calls"`
	ActsFor   []string            `yaml:"acts_for"`
	JetStream []fileGrant         `yaml:"jetstream"`
	// Provisioner lets the identity create and update every store.
	Provisioner bool   `yaml:"provisioner"`
	NKey        string `yaml:"nkey"`
	Discovery   bool   `yaml:"discovery"`
}

type fileGrant struct {
	KV          string   `yaml:"kv"`
	ObjectStore string   `yaml:"object_store"`
	Stream      string   `yaml:"stream"`
	Access      Access   `yaml:"access"`
	Subjects    []string `yaml:"subjects"`
}

// Load reads and validates the matrix file at path.
func Load(path string) (*Matrix, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("matrix: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse reads and validates a matrix from YAML. Unknown keys, duplicate
// identities or rules, unknown names and malformed services or paths are
// refused with an error that names them.
func Parse(data []byte) (*Matrix, error) {
	var f fileMatrix
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("matrix: empty file")
		}
		return nil, fmt.Errorf("matrix: %w", err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("matrix: version must be %d, got %d", Version, f.Version)
	}
	if len(f.Identities) == 0 {
		return nil, errors.New("matrix: no identities")
	}
	m := &Matrix{ids: make(map[string]*Identity, len(f.Identities))}
	for _, name := range sortedKeys(f.Identities) {
		id, err := parseIdentity(name, f.Identities[name])
		if err != nil {
			return nil, fmt.Errorf("matrix: identity %q: %w", name, err)
		}
		m.ids[name] = id
		m.names = append(m.names, name)
	}
	for _, name := range m.names {
		if err := m.checkRefs(m.ids[name]); err != nil {
			return nil, fmt.Errorf("matrix: identity %q: %w", name, err)
		}
	}
	return m, nil
}

func parseIdentity(name string, fi *fileIdentity) (*Identity, error) {
	if err := subjects.ValidateService(name); err != nil {
		return nil, err
	}
	if reservedIdentities[name] {
		return nil, errors.New("name is reserved for the credentials folder's own files")
	}
	if fi == nil {
		return nil, errors.New("kind is required (booth, gateway, bridge or operator)")
	}
	switch fi.Kind {
	case KindBooth, KindGateway, KindBridge, KindOperator:
	case "":
		return nil, errors.New("kind is required (booth, gateway, bridge or operator)")
	default:
		return nil, fmt.Errorf("unknown kind %q (want booth, gateway, bridge or operator)", fi.Kind)
	}
	if fi.Kind == KindOperator && len(fi.Calls) > 0 {
		return nil, errors.New("calls are not for kind operator: an operator reads the JetStream stores it is granted and calls nothing")
	}
	if fi.Provisioner && fi.Kind != KindBridge && fi.Kind != KindOperator {
		return nil, fmt.Errorf("provisioner is only for kind bridge or operator, not %s: a %s binds the stores it is granted and never creates or edits one", fi.Kind, fi.Kind)
	}
	id := &Identity{Name: name, Kind: fi.Kind, Calls: map[string][]string{}, Provisioner: fi.Provisioner}
	for _, svc := range sortedKeys(fi.Calls) {
		paths, err := parsePaths(fi.Calls[svc])
		if err != nil {
			return nil, fmt.Errorf("calls %q: %w", svc, err)
		}
		id.Calls[svc] = paths
	}
	if len(fi.ActsFor) > 0 && fi.Kind != KindBridge {
		return nil, fmt.Errorf("acts_for is only for kind bridge, not %s", fi.Kind)
	}
	for _, a := range fi.ActsFor {
		if slices.Contains(id.ActsFor, a) {
			return nil, fmt.Errorf("acts_for lists %q twice", a)
		}
		id.ActsFor = append(id.ActsFor, a)
	}
	slices.Sort(id.ActsFor)
	for i, fg := range fi.JetStream {
		g, err := parseGrant(fg)
		if err != nil {
			return nil, fmt.Errorf("jetstream[%d]: %w", i, err)
		}
		if slices.ContainsFunc(id.JetStream, func(o Grant) bool { return o.Store == g.Store && o.Name == g.Name }) {
			return nil, fmt.Errorf("jetstream[%d]: duplicate grant for %s %q", i, g.Store, g.Name)
		}
		id.JetStream = append(id.JetStream, g)
	}
	if fi.Discovery && fi.Kind != KindOperator {
		return nil, fmt.Errorf("discovery is only for kind operator (a bridge always discovers, a %s never needs to)", fi.Kind)
	}
	id.Discovery = fi.Discovery
	if fi.NKey != "" && !nkeys.IsValidPublicUserKey(fi.NKey) {
		return nil, errors.New("nkey is not a public user NKey (U...)")
	}
	id.NKey = fi.NKey
	return id, nil
}

// parsePaths validates one rule's paths and returns them normalized and
// sorted.
func parsePaths(raw []string) ([]string, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("no paths: list the paths, or %q for all", AllPaths)
	}
	var out []string
	for _, p := range raw {
		if p == AllPaths {
			if len(raw) > 1 {
				return nil, fmt.Errorf("%q already grants every path: list nothing beside it", AllPaths)
			}
			return []string{AllPaths}, nil
		}
		n, ok := normalPath(p)
		if !ok {
			_, err := subjects.SplitPath(p)
			return nil, fmt.Errorf("path %q: %w", p, err)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("duplicate rule for path %q", n)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

func parseGrant(fg fileGrant) (Grant, error) {
	var g Grant
	set := 0
	for store, name := range map[Store]string{StoreKV: fg.KV, StoreObject: fg.ObjectStore, StoreStream: fg.Stream} {
		if name != "" {
			g.Store, g.Name = store, name
			set++
		}
	}
	if set != 1 {
		return g, errors.New("name exactly one of kv, object_store or stream")
	}
	if err := validStoreName(g.Name); err != nil {
		return g, err
	}
	switch fg.Access {
	case AccessRead, AccessWrite:
		g.Access = fg.Access
	default:
		return g, fmt.Errorf("access must be read or write, got %q", fg.Access)
	}
	if len(fg.Subjects) > 0 && (g.Store != StoreStream || g.Access != AccessWrite) {
		return g, errors.New("subjects are only for a write grant on a stream")
	}
	for _, s := range fg.Subjects {
		if err := validStreamSubject(s); err != nil {
			return g, err
		}
	}
	g.Subjects = slices.Clone(fg.Subjects)
	return g, nil
}

// checkRefs checks the names an identity refers to.
func (m *Matrix) checkRefs(id *Identity) error {
	for _, svc := range sortedKeys(id.Calls) {
		if err := subjects.ValidateService(svc); err != nil {
			return fmt.Errorf("calls: %w", err)
		}
		callee, ok := m.ids[svc]
		switch {
		case !ok:
			return fmt.Errorf("calls unknown identity %q", svc)
		case callee.Kind != KindBooth:
			return fmt.Errorf("calls %q, which is a %s, not a booth", svc, callee.Kind)
		}
	}
	for _, a := range id.ActsFor {
		other, ok := m.ids[a]
		switch {
		case !ok:
			return fmt.Errorf("acts_for unknown identity %q", a)
		case a == id.Name:
			return errors.New("acts_for names itself")
		case other.Kind == KindBridge:
			return fmt.Errorf("acts_for %q, another bridge", a)
		}
	}
	return nil
}
