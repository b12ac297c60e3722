package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// KeysFileName is the NATS config include meshctl init writes beside the
// keys, for the configs in deployments/nats.
const KeysFileName = "nkeys.conf"

// writeKeysConf writes dir's KeysFileName for m: every identity's current
// public NKey, and for a revoked identity a key nobody holds, so that an
// external server reloaded with it (nats-server --signal reload) refuses
// the identity too.
func writeKeysConf(dir string, m *matrix.Matrix) error {
	mk, err := m.LoadKeys(dir)
	if err != nil {
		return err
	}
	keys := mk.Keys()
	if op, err := pki.ReadOperatorPublicKey(dir); err == nil {
		list, err := revocation.Read(dir, op)
		if err != nil {
			return err
		}
		for id := range list.Revoked() {
			if _, ok := keys[id]; !ok {
				continue
			}
			kp, err := nkeys.CreateUser()
			if err != nil {
				return fmt.Errorf("a key for revoked %s: %w", id, err)
			}
			keys[id], _ = kp.PublicKey() // its seed is thrown away
		}
	}
	data, err := natsauth.KeysFile(m, keys)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, KeysFileName), data, pki.PublicMode)
}
