package pki

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nats-io/nkeys"
)

// OverlapFile is the file, in a credentials folder, of the public NKeys
// accepted besides each identity's <identity>.pub while a rotation is under
// way: the next key before the identity switches to it, the previous one
// after, each until a time.
const OverlapFile = "overlap.json"

// OverlapVersion is the format of OverlapFile.
const OverlapVersion = 1

// Overlap is the content of OverlapFile.
type Overlap struct {
	Version int `json:"version"`
	// Keys maps an identity to the keys also accepted from it.
	Keys map[string][]OverlapKey `json:"keys"`
}

// OverlapKey is a public NKey accepted until a time.
type OverlapKey struct {
	Key   string    `json:"key"`
	Until time.Time `json:"until"`
}

// ReadOverlap reads dir's OverlapFile; a folder without one has no overlap.
func ReadOverlap(dir string) (*Overlap, error) {
	path := filepath.Join(dir, OverlapFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Overlap{Version: OverlapVersion, Keys: map[string][]OverlapKey{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	var o Overlap
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	if o.Version != OverlapVersion {
		return nil, fmt.Errorf("pki: %s: version must be %d, got %d", path, OverlapVersion, o.Version)
	}
	for id, keys := range o.Keys {
		if err := ValidateIdentity(id); err != nil {
			return nil, fmt.Errorf("pki: %s: %w", path, err)
		}
		for _, k := range keys {
			if !nkeys.IsValidPublicUserKey(k.Key) {
				return nil, fmt.Errorf("pki: %s: a key of %s is not a public user NKey", path, id)
			}
		}
	}
	if o.Keys == nil {
		o.Keys = map[string][]OverlapKey{}
	}
	return &o, nil
}

// Accepted returns the keys of identity still accepted at now.
func (o *Overlap) Accepted(identity string, now time.Time) []string {
	var out []string
	for _, k := range o.Keys[identity] {
		if now.Before(k.Until) {
			out = append(out, k.Key)
		}
	}
	return out
}

// NextExpiry returns when the first key still accepted at now stops being
// accepted, or the zero time if none is.
func (o *Overlap) NextExpiry(now time.Time) time.Time {
	var first time.Time
	for _, keys := range o.Keys {
		for _, k := range keys {
			if now.Before(k.Until) && (first.IsZero() || k.Until.Before(first)) {
				first = k.Until
			}
		}
	}
	return first
}

// add accepts key from identity until until (the later time, if it is
// there already), and forgets what expired by now.
func (o *Overlap) add(identity, key string, until, now time.Time) {
	keys := slices.DeleteFunc(o.Keys[identity], func(k OverlapKey) bool {
		if k.Key == key && k.Until.After(until) {
			until = k.Until
		}
		return k.Key == key || !now.Before(k.Until)
	})
	o.Keys[identity] = append(keys, OverlapKey{Key: key, Until: until.UTC()})
}

// write writes o as dir's OverlapFile.
func (o *Overlap) write(dir string) error {
	data, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := WriteFile(filepath.Join(dir, OverlapFile), append(data, '\n'), PublicMode); err != nil {
		return fmt.Errorf("pki: writing %s: %w", OverlapFile, err)
	}
	return nil
}
