package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/meshcreds"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// ErrNoCredentials is matched by the error Secure returns when the
// credentials folder or a public key in it is missing.
var ErrNoCredentials = errors.New("no mesh credentials")

// IdentityOptions is the default Config.Identity: it adds no credentials,
// so the connection is anonymous and only an unsecured server (a test's)
// admits it. booth-runner uses Secure instead.
func IdentityOptions(identity string) ([]nats.Option, error) {
	return nil, nil
}

// Credentials returns the Config.Identity of the secure mesh: each booth
// connects with its own identity's client certificate and NKey from the
// credentials folder dir (written by meshctl init), with the mesh CA as
// the only trusted root.
func Credentials(dir string) func(identity string) ([]nats.Option, error) {
	return func(identity string) ([]nats.Option, error) {
		return meshcreds.ClientOptions(dir, identity)
	}
}

// Verifiers returns the Config.BoothOptions of the secure mesh: each booth
// checks every call's token against policy (the matrix with its keys) and
// refuses, before its handler runs, a call the token does not prove the
// matrix allows.
func Verifiers(policy rpc.Policy) func(booth string) ([]rpc.BoothOption, error) {
	return func(booth string) ([]rpc.BoothOption, error) {
		v, err := rpc.NewCallVerifier(booth, policy)
		if err != nil {
			return nil, fmt.Errorf("call verifier of %s: %w", booth, err)
		}
		return []rpc.BoothOption{rpc.WithBoothMiddleware(v.Middleware())}, nil
	}
}

// Secured is a Config set up for the secure mesh by Secure, with the record
// of which booths were given their call verifier.
type Secured struct {
	// Config connects every booth with its own credentials and makes it
	// verify every call's token.
	Config Config

	mu       sync.Mutex
	verified map[string]bool
}

// Secure sets cfg up for the secure mesh: every booth connects with its own
// identity's credentials from the folder dir and checks every call's token
// against the matrix in matrixFile, with the public keys in dir.
func Secure(cfg Config, dir, matrixFile string) (*Secured, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, noCredentials(dir, fmt.Errorf("--mesh-dir %s does not exist", dir))
	}
	m, err := matrix.Load(matrixFile)
	if err != nil {
		return nil, fmt.Errorf("%w: --matrix: %w", ErrConfig, err)
	}
	if m, err = m.LoadKeys(dir); err != nil {
		return nil, noCredentials(dir, err)
	}
	s := &Secured{Config: cfg, verified: map[string]bool{}}
	verifier := Verifiers(m)
	s.Config.Identity = func(identity string) ([]nats.Option, error) {
		opts, err := meshcreds.ClientOptions(dir, identity)
		if err != nil {
			return nil, noCredentials(dir, err)
		}
		return opts, nil
	}
	s.Config.BoothOptions = func(booth string) ([]rpc.BoothOption, error) {
		opts, err := verifier(booth)
		if err == nil {
			s.mu.Lock()
			s.verified[booth] = true
			s.mu.Unlock()
		}
		return opts, err
	}
	return s, nil
}

// Check returns an error naming every booth of r that was started without
// its call verifier, so a process never serves booths that take calls
// unchecked.
func (s *Secured) Check(r *Runner) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, name := range r.Names() {
		if !s.verified[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("refusing to serve %s without call-token verification: the runner did not apply Config.BoothOptions", strings.Join(missing, ", "))
	}
	return nil
}

// Run is Run for the secured Config, which also refuses to serve, and stops
// the booths, if one was started without its call verifier.
func (s *Secured) Run(ctx context.Context) error {
	r, err := Start(ctx, s.Config)
	if err != nil {
		return err
	}
	if err := s.Check(r); err != nil {
		return errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
	}
	<-ctx.Done()
	r.cfg.Logger.Info("stopping: draining booths", "booths", r.Names())
	return r.Stop(context.WithoutCancel(ctx))
}

// noCredentials wraps a missing or unreadable credential with the command
// that makes them.
func noCredentials(dir string, err error) error {
	return fmt.Errorf("%w: %v; create them with \"meshctl init --dir %s\" (\"make run\" does it)", ErrNoCredentials, err, dir)
}
