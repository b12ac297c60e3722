package revocation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// FileName is the list's file in a credentials folder.
const FileName = "revoked.jwt"

// File returns the list's path in dir.
func File(dir string) string { return filepath.Join(dir, FileName) }

// Read reads and verifies dir's list against operator (a public operator
// NKey). A folder without a list has an empty one (Seq 0).
func Read(dir, operator string) (*List, error) {
	data, err := os.ReadFile(File(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return &List{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("revocation: %w", err)
	}
	l, err := Parse(data, operator)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", File(dir), err)
	}
	return l, nil
}

// Write signs l with operator and writes it as dir's list, atomically.
func Write(dir string, l *List, operator nkeys.KeyPair) error {
	data, err := Sign(l, operator)
	if err != nil {
		return err
	}
	if err := pki.WriteFile(File(dir), data, pki.PublicMode); err != nil {
		return fmt.Errorf("revocation: writing %s: %w", File(dir), err)
	}
	return nil
}

// Update reads dir's list, verified against op's public key, and writes
// the list change makes of it, signed by op.
func Update(dir string, op nkeys.KeyPair, change func(*List) (*List, error)) (*List, error) {
	pub, err := op.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("revocation: operator NKey: %w", err)
	}
	cur, err := Read(dir, pub)
	if err != nil {
		return nil, err
	}
	next, err := change(cur)
	if err != nil {
		return nil, err
	}
	if err := Write(dir, next, op); err != nil {
		return nil, err
	}
	return next, nil
}
