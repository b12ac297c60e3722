// Package keyring reads from a credentials folder what the mesh trusts at a
// given moment: the public NKeys of every identity (its <identity>.pub and,
// while a rotation is under way, the keys overlap.json still accepts) and
// the identities the operator's revocation list revokes. The processes of
// the mesh and the embedded NATS server read it the same way, at start and
// whenever the folder changes.
package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Reader reads a credentials folder's keys and revocations for the
// identities of a matrix. It pins the operator key it first finds and the
// newest revocation list it has read: a replaced operator.pub, or an older
// or missing list in place of one it applied, is an error, and the caller
// keeps what it had. It is safe for concurrent use.
type Reader struct {
	dir string
	m   *matrix.Matrix

	mu       sync.Mutex
	operator string // "" until the folder has an operator key
	seq      uint64 // of the newest list applied
}

// NewReader returns the reader of dir for m's identities; an empty dir
// reads nothing and gives each identity the key m lists for it.
func NewReader(dir string, m *matrix.Matrix) *Reader {
	return &Reader{dir: dir, m: m}
}

// Files lists the files Read reads, for a watch.
func (r *Reader) Files() []string {
	if r.dir == "" {
		return nil
	}
	var out []string
	for _, id := range r.m.Identities() {
		out = append(out, pki.PubFile(r.dir, id))
	}
	return append(out, filepath.Join(r.dir, pki.OverlapFile), pki.PubFile(r.dir, pki.OperatorName), revocation.File(r.dir))
}

// Read returns the key set the folder gives at now, and when it will
// change without a file changing (an overlap key expiring; zero if never).
func (r *Reader) Read(now time.Time) (*calltoken.KeySet, time.Time, error) {
	ks := &calltoken.KeySet{Keys: map[string][]string{}, Revoked: map[string]bool{}}
	if r.dir == "" {
		for id, pub := range r.m.Keys() {
			ks.Keys[id] = []string{pub}
		}
		return ks, time.Time{}, nil
	}
	ov, err := pki.ReadOverlap(r.dir)
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, id := range r.m.Identities() {
		pub, err := pki.ReadPublicKey(r.dir, id)
		if errors.Is(err, fs.ErrNotExist) {
			var ok bool
			if pub, ok = r.m.PublicKey(id); !ok {
				return nil, time.Time{}, fmt.Errorf("keyring: %w (run meshctl init)", err)
			}
		} else if err != nil {
			return nil, time.Time{}, fmt.Errorf("keyring: %w", err)
		}
		keys := []string{pub}
		for _, k := range ov.Accepted(id, now) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		ks.Keys[id] = keys
	}
	list, err := r.revocations()
	if err != nil {
		return nil, time.Time{}, err
	}
	ks.Revoked = list.Revoked()
	return ks, ov.NextExpiry(now), nil
}

// revocations reads the revocation list, checked against the pinned
// operator key and the newest list applied.
func (r *Reader) revocations() (*revocation.List, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	op, err := pki.ReadOperatorPublicKey(r.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if r.operator != "" {
			return nil, fmt.Errorf("keyring: %s was removed: the revocation list cannot be verified", pki.PubFile(r.dir, pki.OperatorName))
		}
		if _, err := os.Stat(revocation.File(r.dir)); err == nil {
			return nil, fmt.Errorf("keyring: %s exists but %s does not: the list cannot be verified", revocation.File(r.dir), pki.PubFile(r.dir, pki.OperatorName))
		}
		return &revocation.List{}, nil
	case err != nil:
		return nil, fmt.Errorf("keyring: %w", err)
	case r.operator != "" && op != r.operator:
		return nil, fmt.Errorf("keyring: the operator key in %s changed: restart the process to trust a new operator key", pki.PubFile(r.dir, pki.OperatorName))
	}
	list, err := revocation.Read(r.dir, op)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if list.Seq < r.seq {
		return nil, fmt.Errorf("keyring: %s holds list %d, older than list %d already applied: refused", revocation.File(r.dir), list.Seq, r.seq)
	}
	r.operator, r.seq = op, list.Seq
	return list, nil
}
