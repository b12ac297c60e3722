package matrix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"
)

// WithKeys returns a copy of m whose identities have the given public NKeys.
// A key the file already lists must agree; a key for an unknown identity or
// one that is not a public user NKey is refused.
func (m *Matrix) WithKeys(keys map[string]string) (*Matrix, error) {
	out := &Matrix{ids: make(map[string]*Identity, len(m.ids)), names: m.names}
	for n, id := range m.ids {
		c := *id
		out.ids[n] = &c
	}
	for _, n := range sortedKeys(keys) {
		k := keys[n]
		id, ok := out.ids[n]
		switch {
		case !ok:
			return nil, fmt.Errorf("matrix: key for unknown identity %q", n)
		case !nkeys.IsValidPublicUserKey(k):
			return nil, fmt.Errorf("matrix: key of %q is not a public user NKey", n)
		case id.NKey != "" && id.NKey != k:
			return nil, fmt.Errorf("matrix: key of %q disagrees with the nkey in the matrix file", n)
		}
		id.NKey = k
	}
	return out, nil
}

// LoadKeys returns a copy of m with the public NKey of every identity read
// from "<dir>/<identity>.pub" (as `meshctl init` writes them). An identity
// whose key the file already lists may lack a .pub file; any other missing
// key is an error naming the file.
func (m *Matrix) LoadKeys(dir string) (*Matrix, error) {
	keys := map[string]string{}
	for _, n := range m.names {
		path := filepath.Join(dir, n+".pub")
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) && m.ids[n].NKey != "" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("matrix: public NKey of %q: %w (run meshctl init)", n, err)
		}
		keys[n] = strings.TrimSpace(string(data))
	}
	return m.WithKeys(keys)
}
