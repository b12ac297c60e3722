package pki

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
)

// operator makes the operator's NKey (an NKey of the operator type, so no
// identity's seed can stand in for it) unless it exists. Rotate does not
// replace it: it signs the revocation list, which must stay in force.
func (in *initer) operator() error {
	have, err := exists(SeedFile(in.dir, OperatorName))
	if err != nil || have {
		if have {
			in.rep.Kept = append(in.rep.Kept, OperatorName+".nk")
		}
		return err
	}
	kp, err := nkeys.CreateOperator()
	if err != nil {
		return fmt.Errorf("pki: operator NKey: %w", err)
	}
	if err := writeSeed(in.dir, OperatorName, kp); err != nil {
		return err
	}
	in.rep.Created = append(in.rep.Created, OperatorName+".nk")
	return nil
}

// ReadOperator reads the operator's NKey seed from "<dir>/operator.nk".
func ReadOperator(dir string) (nkeys.KeyPair, error) {
	path := SeedFile(dir, OperatorName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: operator NKey: %w (meshctl init makes it)", err)
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("pki: %s does not hold a valid NKey seed: %w", path, err)
	}
	if pub, _ := kp.PublicKey(); !nkeys.IsValidPublicOperatorKey(pub) {
		return nil, fmt.Errorf("pki: %s holds a seed that is not an operator NKey", path)
	}
	return kp, nil
}

// ReadOperatorPublicKey reads the operator's public NKey from
// "<dir>/operator.pub"; an error matching fs.ErrNotExist means the folder
// has none.
func ReadOperatorPublicKey(dir string) (string, error) {
	path := PubFile(dir, OperatorName)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("pki: operator public NKey: %w", err)
	}
	pub := strings.TrimSpace(string(data))
	if !nkeys.IsValidPublicOperatorKey(pub) {
		return "", fmt.Errorf("pki: %s does not hold a public operator NKey", path)
	}
	return pub, nil
}
