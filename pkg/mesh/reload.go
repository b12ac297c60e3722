package mesh

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hms-svc/hms-svc/internal/filewatch"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
)

// DefaultReloadInterval is how often a Mesh checks its credential files for
// a change.
const DefaultReloadInterval = time.Second

// Reload reads the identity's credentials and the folder's public keys and
// revocation list again and uses them from now on: the call signer signs
// with the NKey it finds, the booths check tokens against the keys it finds
// (both keys of an identity during a rotation) and refuse the identities it
// finds revoked, and the next NATS (re)connect presents the certificate and
// NKey it finds. Live connections are not dropped. If anything is missing,
// unreadable or inconsistent (a rotation half written, a revocation list
// not signed by the operator or older than the one applied), Reload returns
// an error naming it and the Mesh keeps what it had.
//
// A Mesh reloads by itself when the files change (Config.ReloadInterval);
// Reload is for a program that wants to at once, such as on SIGHUP.
func (m *Mesh) Reload(ctx context.Context) error {
	if m.cfg.InsecureNoCredentials {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	s, err := m.readSnapshot()
	if err != nil {
		return fmt.Errorf("mesh: reloading the credentials of %s: %w", m.cfg.Identity, err)
	}
	if err := m.signer.Rotate(s.kp); err != nil {
		return fmt.Errorf("mesh: reloading the credentials of %s: %w", m.cfg.Identity, err)
	}
	m.apply(s)
	return nil
}

// apply makes s the Mesh's credentials, the signer's key already rotated;
// reloadMu is held.
func (m *Mesh) apply(s *snapshot) {
	old := m.snap.Swap(s)
	m.mu.Lock()
	v := m.verifier
	m.mu.Unlock()
	if v != nil {
		v.SetKeySet(s.keys)
	}
	m.logChanges(old, s)
}

// logChanges says what a reload changed.
func (m *Mesh) logChanges(old, s *snapshot) {
	log := m.cfg.Logger.With("identity", m.cfg.Identity)
	if old.pub != s.pub {
		log.Info("NKey rotated: signing with the new key; the next NATS reconnect uses it", "nkey", s.pub)
	}
	if !bytes.Equal(old.cert.Certificate[0], s.cert.Certificate[0]) {
		log.Info("certificate reloaded: the next NATS reconnect presents it")
	}
	if !old.pool.Equal(s.pool) {
		log.Info("trust bundle reloaded")
	}
	for _, id := range newlyRevoked(old.keys, s.keys) {
		if id == m.cfg.Identity {
			log.Error("this identity is revoked: the mesh refuses its connections and calls")
			continue
		}
		log.Warn("identity revoked: its calls are refused", "revoked", id)
	}
}

// newlyRevoked returns the identities b revokes and a does not, sorted.
func newlyRevoked(a, b *calltoken.KeySet) []string {
	var out []string
	for id := range maps.Keys(b.Revoked) {
		if !a.Revoked[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// watchFiles lists the files a reload reads.
func (m *Mesh) watchFiles() []string {
	return append(m.cfg.Credentials.files(m.cfg.Identity, m.serving.Load()), m.keyring.Files()...)
}

// startWatch reloads the Mesh whenever its files change, or an overlap key
// expires, until Close; a failed reload is logged.
func (m *Mesh) startWatch(w *filewatch.Watch) {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopWatch = cancel
	m.watchDone = make(chan struct{})
	go func() {
		defer close(m.watchDone)
		w.Run(ctx, m.cfg.ReloadInterval, m.snap.Load().due, func() (time.Time, error) {
			if err := m.Reload(ctx); err != nil {
				return time.Time{}, err
			}
			return m.snap.Load().due, nil
		}, func(err error) {
			m.cfg.Logger.Error("credentials not reloaded; keeping the current ones", "identity", m.cfg.Identity, "error", err)
		})
	}()
}
