package pki

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
)

// writeNKey makes a user NKey for identity and writes its seed (0600) and
// public key (0644).
func writeNKey(dir, identity string) error {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("pki: NKey for %s: %w", identity, err)
	}
	return writeSeed(dir, identity, kp)
}

func writePub(dir, identity string, kp nkeys.KeyPair) error {
	pub, err := kp.PublicKey()
	if err != nil {
		return fmt.Errorf("pki: NKey for %s: %w", identity, err)
	}
	if err := WriteFile(PubFile(dir, identity), []byte(pub+"\n"), PublicMode); err != nil {
		return fmt.Errorf("pki: writing public NKey of %s: %w", identity, err)
	}
	return nil
}

// ReadKeyPair reads identity's NKey seed from "<dir>/<identity>.nk".
func ReadKeyPair(dir, identity string) (nkeys.KeyPair, error) {
	path := SeedFile(dir, identity)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: NKey seed of %s: %w", identity, err)
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("pki: %s does not hold a valid NKey seed: %w", path, err)
	}
	if pub, _ := kp.PublicKey(); !nkeys.IsValidPublicUserKey(pub) {
		return nil, fmt.Errorf("pki: %s holds a seed that is not a user NKey", path)
	}
	return kp, nil
}

// ReadPublicKey reads identity's public NKey from "<dir>/<identity>.pub".
func ReadPublicKey(dir, identity string) (string, error) {
	path := PubFile(dir, identity)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("pki: public NKey of %s: %w", identity, err)
	}
	pub := strings.TrimSpace(string(data))
	if !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("pki: %s does not hold a public user NKey", path)
	}
	return pub, nil
}

// PublicKeys reads the public NKey of every identity from dir.
func PublicKeys(dir string, identities []string) (map[string]string, error) {
	keys := make(map[string]string, len(identities))
	for _, id := range identities {
		pub, err := ReadPublicKey(dir, id)
		if err != nil {
			return nil, err
		}
		keys[id] = pub
	}
	return keys, nil
}
