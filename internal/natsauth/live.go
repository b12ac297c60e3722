package natsauth

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/filewatch"
	"github.com/hms-svc/hms-svc/internal/keyring"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Live is the mesh's authorization of an embedded server (Apply's), kept
// in step with the credentials folder while the server runs: a rotated
// identity's new key is accepted next to its old one during the overlap,
// then alone; a new trust bundle or server certificate serves the next
// handshake; a revoked identity is refused and its connections closed.
// Connections of identities that are not revoked stay up through every
// reload, whatever key they authenticated with.
//
// Live never reloads the server's options: a reload keeps the custom
// authenticator the server started with, and any reload (its accounts and
// users always compare as changed) closes every NKey connection, since with
// a custom authenticator the server has no NKey table to find their users
// in. So Live replaces the authenticator's tables itself, serves each TLS
// handshake the config of its last reload (GetConfigForClient), and closes
// the revoked identities' connections by id.
type Live struct {
	m      *matrix.Matrix
	files  TLSFiles
	reader *keyring.Reader
	log    *slog.Logger
	tc     atomic.Pointer[tls.Config] // the TLS of the next handshake

	mu     sync.Mutex
	binder *binder
	owner  map[string]string // every key accepted since start -> identity
	tls    [sha256.Size]byte // of the TLS files tc was made from
	due    time.Time         // when the keys change without a file changing
}

// NewLive returns the authorization of m's identities from the credentials
// folder dir (ca.pem, server.pem, server-key.pem, the public keys, the
// overlap and revocation files). Nothing is read until Tune.
func NewLive(m *matrix.Matrix, dir string, log *slog.Logger) *Live {
	return &Live{m: m, files: ServerFiles(dir), reader: keyring.NewReader(dir, m), log: log, owner: map[string]string{}}
}

// folder is what the credentials folder gives at a moment.
type folder struct {
	users   []*server.NkeyUser
	owner   map[string]string // key -> identity, revoked ones included
	revoked map[string]bool
	tls     [sha256.Size]byte // digest of the TLS files
	due     time.Time         // when the keys change without a file changing
}

// read reads the folder; l.mu is held.
func (l *Live) read() (*folder, error) {
	ks, due, err := l.reader.Read(time.Now())
	if err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	f := &folder{revoked: ks.Revoked, due: due}
	if f.users, f.owner, err = usersOf(l.m, ks.Keys, ks.Revoked); err != nil {
		return nil, err
	}
	if f.tls, err = l.tlsSum(); err != nil {
		return nil, err
	}
	return f, nil
}

// Tune sets opts up as Apply does, with the keys and revocations the
// folder gives now; use it as embednats.Config.Tune, then Reload or Watch
// the server it starts.
func (l *Live) Tune(opts *server.Options) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.read()
	if err != nil {
		return err
	}
	if l.binder, err = configure(opts, f.users, f.owner, l.files); err != nil {
		return err
	}
	l.tc.Store(opts.TLSConfig)
	base := opts.TLSConfig.Clone()
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return l.tc.Load(), nil }
	opts.TLSConfig = base
	l.tls, l.due = f.tls, f.due
	l.remember(f.owner)
	return nil
}

// Reload brings s, started with Tune's options, in step with the folder as
// it is now. On an error nothing changes.
func (l *Live) Reload(s *server.Server) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.read()
	if err != nil {
		return err
	}
	if f.tls != l.tls {
		tc, err := serverTLS(l.files)
		if err != nil {
			return err
		}
		l.tc.Store(tc)
		l.tls = f.tls
		l.log.Info("NATS server TLS reloaded (trust bundle, server certificate)")
	}
	l.binder.set(f.users, f.owner)
	l.remember(f.owner)
	l.due = f.due
	return l.closeRevoked(s, f.revoked)
}

// remember adds owner's keys to the keys known since start.
func (l *Live) remember(owner map[string]string) {
	for k, id := range owner {
		l.owner[k] = id
	}
}

// closeRevoked closes every connection authenticated as a revoked identity,
// with any key it has had since the server started.
func (l *Live) closeRevoked(s *server.Server, revoked map[string]bool) error {
	if len(revoked) == 0 {
		return nil
	}
	conns, err := s.Connz(&server.ConnzOptions{Username: true, Limit: math.MaxInt32})
	if err != nil {
		return fmt.Errorf("natsauth: listing connections: %w", err)
	}
	for _, c := range conns.Conns {
		id := l.owner[c.AuthorizedUser]
		if !revoked[id] {
			continue
		}
		if err := s.DisconnectClientByID(c.Cid); err == nil {
			l.log.Warn("closed the NATS connection of a revoked identity", "revoked", id, "cid", c.Cid, "name", c.Name)
		}
	}
	return nil
}

// tlsSum returns a digest of the TLS files' contents.
func (l *Live) tlsSum() ([sha256.Size]byte, error) {
	h := sha256.New()
	for _, f := range []string{l.files.CA, l.files.Cert, l.files.Key} {
		data, err := os.ReadFile(f)
		if err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("natsauth: server TLS: %w", err)
		}
		h.Write(data)
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

// Watch reloads s whenever the folder changes, or an overlap key expires,
// checking every interval until ctx ends; a failed reload is logged and
// the server keeps what it had. Call it once, after Tune.
func (l *Live) Watch(ctx context.Context, s *server.Server, interval time.Duration) {
	w := filewatch.New(func() []string { return append(l.reader.Files(), l.files.CA, l.files.Cert, l.files.Key) })
	// A change between Tune and now is missed by the watch: catch it up.
	if err := l.Reload(s); err != nil {
		l.log.Error("NATS server authorization not reloaded; keeping the current one", "error", err)
	}
	l.mu.Lock()
	due := l.due
	l.mu.Unlock()
	w.Run(ctx, interval, due, func() (time.Time, error) {
		if err := l.Reload(s); err != nil {
			return time.Time{}, err
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.due, nil
	}, func(err error) {
		l.log.Error("NATS server authorization not reloaded; keeping the current one", "error", err)
	})
}
