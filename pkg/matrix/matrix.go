package matrix

import (
	"maps"
	"slices"
	"strings"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// Kind is what an identity is.
type Kind string

// The kinds of identity.
const (
	// KindBooth serves calls on its own subjects.
	KindBooth Kind = "booth"
	// KindGateway is a client outside NATS that reaches the mesh through the
	// bridge.
	KindGateway Kind = "gateway"
	// KindBridge calls booths on behalf of the identities it acts for.
	KindBridge Kind = "bridge"
	// KindOperator is a person's tool (meshctl, the nats CLI) that connects
	// to NATS to read the JetStream stores it is granted, such as AUDIT or
	// SVC_TRACE, or to discover the booths (Identity.Discovery); it calls
	// nothing.
	KindOperator Kind = "operator"
)

// AllPaths in a call rule grants every path of a service.
const AllPaths = "*"

// Identity is one identity of the matrix.
type Identity struct {
	Name string
	Kind Kind
	// Calls maps a service to the paths this identity may call on it,
	// sorted; AllPaths alone grants every path.
	Calls map[string][]string
	// ActsFor lists the identities a bridge may call on behalf of.
	ActsFor []string
	// JetStream lists the stores this identity may use.
	JetStream []Grant
	// Provisioner is true for the identity that creates and updates the
	// stores (every store any grant names), and may do nothing else to
	// them: no identity may delete or purge a store. Only a bridge or an
	// operator may be one.
	Provisioner bool
	// Discovery lets an operator send NATS micro discovery requests
	// ($SRV.PING, $SRV.INFO, $SRV.STATS), as `nats micro ls` does, and read
	// the booths' answers on its own inbox. A bridge always may.
	Discovery bool
	// NKey is the public NKey, when known.
	NKey string
}

// Matrix is a loaded, validated Access & Authorization Matrix. It is
// read-only and safe for concurrent use.
type Matrix struct {
	ids   map[string]*Identity
	names []string
}

// Identities returns every identity's name, sorted.
func (m *Matrix) Identities() []string { return slices.Clone(m.names) }

// Services returns the names of the booths, sorted.
func (m *Matrix) Services() []string {
	var out []string
	for _, n := range m.names {
		if m.ids[n].Kind == KindBooth {
			out = append(out, n)
		}
	}
	return out
}

// Identity returns a copy of the named identity.
func (m *Matrix) Identity(name string) (Identity, bool) {
	id, ok := m.ids[name]
	if !ok {
		return Identity{}, false
	}
	c := *id
	c.Calls = make(map[string][]string, len(id.Calls))
	for s, p := range id.Calls {
		c.Calls[s] = slices.Clone(p)
	}
	c.ActsFor = slices.Clone(id.ActsFor)
	c.JetStream = slices.Clone(id.JetStream)
	return c, true
}

// Stores returns every store a grant of the matrix names, once each, sorted
// by the stream behind it; Access and Subjects are left empty. These are the
// stores a provisioner creates and updates.
func (m *Matrix) Stores() []Grant {
	seen := map[string]Grant{}
	for _, id := range m.ids {
		for _, g := range id.JetStream {
			seen[g.Stream()] = Grant{Store: g.Store, Name: g.Name}
		}
	}
	out := make([]Grant, 0, len(seen))
	for _, s := range sortedKeys(seen) {
		out = append(out, seen[s])
	}
	return out
}

// Allowed reports whether caller may call path on service. It is false for
// anything the matrix does not grant, including unknown names and malformed
// paths. A bridge's own rights do not include those it acts for: use
// AllowedFor for a call made on someone's behalf.
func (m *Matrix) Allowed(caller, service, path string) bool {
	id, ok := m.ids[caller]
	if !ok {
		return false
	}
	paths, ok := id.Calls[service]
	if !ok {
		return false
	}
	p, ok := normalPath(path)
	if !ok {
		return false
	}
	if paths[0] == AllPaths {
		return true
	}
	_, found := slices.BinarySearch(paths, p)
	return found
}

// AllowedFor reports whether actor may call path on service on behalf of
// subject: actor may act for subject and subject may make the call. When
// actor is subject it is Allowed.
func (m *Matrix) AllowedFor(actor, subject, service, path string) bool {
	if actor != subject && !m.MayActFor(actor, subject) {
		return false
	}
	return m.Allowed(subject, service, path)
}

// MayActFor reports whether actor may call on behalf of subject.
func (m *Matrix) MayActFor(actor, subject string) bool {
	id, ok := m.ids[actor]
	return ok && slices.Contains(id.ActsFor, subject)
}

// Paths returns the paths caller may call on service: nil for none,
// [AllPaths] for every path.
func (m *Matrix) Paths(caller, service string) []string {
	id, ok := m.ids[caller]
	if !ok {
		return nil
	}
	return slices.Clone(id.Calls[service])
}

// PublicKey returns identity's public NKey, if known.
func (m *Matrix) PublicKey(identity string) (string, bool) {
	id, ok := m.ids[identity]
	if !ok || id.NKey == "" {
		return "", false
	}
	return id.NKey, true
}

// Keys returns the known public NKeys by identity.
func (m *Matrix) Keys() map[string]string {
	out := make(map[string]string, len(m.ids))
	for n, id := range m.ids {
		if id.NKey != "" {
			out[n] = id.NKey
		}
	}
	return out
}

// normalPath validates a path as subjects.SplitPath does and returns it
// with one leading slash. It runs on every call (signer and verifier), so it
// walks the segments without splitting and returns an already normal path
// as it is.
func normalPath(path string) (string, bool) {
	p := strings.TrimPrefix(path, "/")
	if p == "" {
		return "", false
	}
	n := 0
	for rest, more := p, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		if n++; n > subjects.MaxSegments || subjects.ValidateSegment(seg) != nil {
			return "", false
		}
	}
	if len(p) < len(path) {
		return path, true
	}
	return "/" + p, true
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
