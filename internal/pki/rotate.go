package pki

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nkeys"
)

// Timings of a rotation.
const (
	// DefaultRotateWait is the pause between publishing what will be
	// trusted and using it: running processes read their credentials
	// folder every second.
	DefaultRotateWait = 3 * time.Second
	// DefaultOverlap is how long a replaced public NKey stays accepted.
	DefaultOverlap = 2 * time.Minute
	// MinOverlap is the shortest overlap: a call token lives 60 s and
	// booths tolerate 5 s of clock skew, so a token signed with the old
	// key just before the switch must stay verifiable that long, plus the
	// time its signer takes to notice the switch.
	MinOverlap = 70 * time.Second
)

// NextCAName is the stem of the CA that a CA rotation under way will switch
// to ("ca-next.pem", "ca-next-key.pem").
const NextCAName = "ca-next"

// RotateOptions adjust Rotate and RotateCA.
type RotateOptions struct {
	// Wait is the pause between publishing the new public NKeys (or the new
	// CA) and switching to them, so that every running process trusts them
	// before they are first used (DefaultRotateWait).
	Wait time.Duration
	// Overlap is how long the replaced public NKeys stay accepted
	// (DefaultOverlap, at least MinOverlap).
	Overlap time.Duration
}

func (o *RotateOptions) setDefaults() error {
	if o.Wait == 0 {
		o.Wait = DefaultRotateWait
	}
	if o.Overlap == 0 {
		o.Overlap = DefaultOverlap
	}
	switch {
	case o.Wait < 0:
		return fmt.Errorf("pki: rotation wait must be positive, got %v", o.Wait)
	case o.Overlap < MinOverlap:
		return fmt.Errorf("pki: rotation overlap must be at least %v (a call token's life and leeway), got %v", MinOverlap, o.Overlap)
	}
	return nil
}

// isLeafOnly reports whether name has a certificate and no NKey.
func isLeafOnly(name string) bool { return name == ServerName || name == RouteName }

// Rotate replaces, while the mesh runs, the keys of names: for an identity
// a new NKey and a new certificate key, for ServerName and RouteName a new
// certificate key; the certificates are signed by the current CA and keep
// their names. It first adds the new public NKeys to OverlapFile, waits
// opts.Wait, then writes the new files; the previous public NKeys stay in
// OverlapFile for opts.Overlap.
func Rotate(dir string, names []string, opts RotateOptions) (*Report, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if err := checkRotatable(dir, names); err != nil {
		return nil, err
	}
	ov, err := ReadOverlap(dir)
	if err != nil {
		return nil, err
	}
	next := map[string]nkeys.KeyPair{}
	now := time.Now()
	for _, n := range names {
		if isLeafOnly(n) {
			continue
		}
		kp, err := nkeys.CreateUser()
		if err != nil {
			return nil, fmt.Errorf("pki: NKey for %s: %w", n, err)
		}
		pub, _ := kp.PublicKey()
		next[n] = kp
		ov.add(n, pub, now.Add(opts.Wait+opts.Overlap), now)
	}
	if len(next) > 0 {
		if err := ov.write(dir); err != nil {
			return nil, err
		}
		time.Sleep(opts.Wait)
	}
	now = time.Now()
	for n := range next {
		old, err := ReadPublicKey(dir, n)
		if err != nil {
			return nil, err
		}
		ov.add(n, old, now.Add(opts.Overlap), now)
	}
	// The previous keys are accepted before any process can sign with the
	// new ones.
	if len(next) > 0 {
		if err := ov.write(dir); err != nil {
			return nil, err
		}
	}
	ca, err := LoadCA(dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, n := range names {
		if err := reissue(dir, ca, n, false); err != nil {
			return nil, err
		}
		rep.Created = append(rep.Created, n)
		if kp, ok := next[n]; ok {
			if err := writeSeed(dir, n, kp); err != nil {
				return nil, err
			}
			rep.Created = append(rep.Created, n+".nk")
		}
	}
	return rep, nil
}

// checkRotatable refuses names without credentials, and a rotation while a
// CA rotation is unfinished.
func checkRotatable(dir string, names []string) error {
	if len(names) == 0 {
		return errors.New("pki: nothing to rotate: name an identity")
	}
	if have, err := exists(CertFile(dir, NextCAName)); err != nil || have {
		if have {
			err = errors.New("pki: a CA rotation is under way: finish it first (meshctl rotate --ca)")
		}
		return err
	}
	for _, n := range names {
		if !isLeafOnly(n) {
			if err := ValidateIdentity(n); err != nil {
				return fmt.Errorf("pki: %w", err)
			}
			if _, err := ReadPublicKey(dir, n); err != nil {
				return fmt.Errorf("%w (run meshctl init first)", err)
			}
		}
		if _, err := ReadCert(CertFile(dir, n)); err != nil {
			return fmt.Errorf("%w (run meshctl init first)", err)
		}
	}
	return nil
}

// reissue signs name's certificate again with ca, with its names: with its
// key when keepKey, else with a new one.
func reissue(dir string, ca *CA, name string, keepKey bool) error {
	cert, err := ReadCert(CertFile(dir, name))
	if err != nil {
		return err
	}
	spec := leafSpec(name, cert.DNSNames, cert.IPAddresses)
	if keepKey {
		if spec.Key, err = ReadKey(KeyFile(dir, name)); err != nil {
			return err
		}
	}
	leaf, err := ca.Issue(spec)
	if err != nil {
		return err
	}
	return WritePair(dir, name, leaf.Cert, leaf.Key)
}

// writeSeed writes identity's NKey seed and then its public key.
func writeSeed(dir, identity string, kp nkeys.KeyPair) error {
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("pki: NKey for %s: %w", identity, err)
	}
	if err := WriteFile(SeedFile(dir, identity), append(seed, '\n'), SecretMode); err != nil {
		return fmt.Errorf("pki: writing NKey seed of %s: %w", identity, err)
	}
	return writePub(dir, identity, kp)
}
