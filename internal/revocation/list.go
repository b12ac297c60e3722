package revocation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrBadList is matched by the error of Parse and of Read for a list that is
// not signed by the operator or not well formed.
var ErrBadList = errors.New("bad revocation list")

// List is a revocation list.
type List struct {
	// Seq numbers the list: each list the operator signs is one higher
	// than the one it replaces.
	Seq uint64
	// Issued is when the operator signed it.
	Issued time.Time
	// Entries are the revoked identities, sorted by name.
	Entries []Entry
}

// Entry is one revoked identity.
type Entry struct {
	Identity string    `json:"identity"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
}

// Revoked returns the revoked identities as a set.
func (l *List) Revoked() map[string]bool {
	out := make(map[string]bool, len(l.Entries))
	for _, e := range l.Entries {
		out[e.Identity] = true
	}
	return out
}

// Has reports whether identity is revoked.
func (l *List) Has(identity string) bool {
	return slices.ContainsFunc(l.Entries, func(e Entry) bool { return e.Identity == identity })
}

// Revoke returns the list that follows l with identity revoked at at; it
// is an error if identity is revoked already.
func (l *List) Revoke(identity, reason string, at time.Time) (*List, error) {
	if l.Has(identity) {
		return nil, fmt.Errorf("revocation: %s is revoked already", identity)
	}
	entries := append(slices.Clone(l.Entries), Entry{Identity: identity, At: at.UTC(), Reason: reason})
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Identity, b.Identity) })
	return &List{Seq: l.Seq + 1, Issued: at.UTC(), Entries: entries}, nil
}

// Undo returns the list that follows l without identity; it is an error if
// identity is not revoked.
func (l *List) Undo(identity string, at time.Time) (*List, error) {
	if !l.Has(identity) {
		return nil, fmt.Errorf("revocation: %s is not revoked", identity)
	}
	entries := slices.DeleteFunc(slices.Clone(l.Entries), func(e Entry) bool { return e.Identity == identity })
	return &List{Seq: l.Seq + 1, Issued: at.UTC(), Entries: entries}, nil
}
