package stores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/wait"
)

// Provisioning timing: each JetStream request waits at most
// attemptTimeout; failed attempts back off from backoffMin, doubling up to
// backoffMax, jittered, until the caller's ctx ends.
const (
	attemptTimeout = 5 * time.Second
	backoffMin     = 50 * time.Millisecond
	backoffMax     = 2 * time.Second
)

// Action is what Provision did to a store.
type Action string

// The actions of Provision.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Result is what Provision did to one store.
type Result struct {
	Store  Store
	Action Action
	// Replicas is how many copies the store keeps now; more than Options
	// asked when it already kept more (they are never lowered).
	Replicas int
}

// String is one line of a provisioning report.
func (r Result) String() string {
	s := fmt.Sprintf("%-9s %s: %d replica(s)", r.Action, r.Store, r.Replicas)
	if r.Replicas > r.Store.Config.Replicas {
		s += fmt.Sprintf(" (kept; %d asked)", r.Store.Config.Replicas)
	}
	return s
}

// Provision creates every store of Declare(o) that does not exist and
// updates the others to their declaration, over js, whose connection must
// be the provisioner's. It waits for JetStream to answer (a fresh cluster
// has no meta leader for a while), retries what may succeed later with
// backoff until ctx ends, and keeps the replicas of a store that has more
// than o asks. Running it again changes nothing. On error, the stores
// already provisioned stay as they are, and the error names the store.
func Provision(ctx context.Context, js jetstream.JetStream, o Options, log *slog.Logger) ([]Result, error) {
	all, err := Declare(o)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if err := waitJetStream(ctx, js); err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(all))
	for _, s := range all {
		var res Result
		err := retry(ctx, js, "$JS.API.STREAM.", func(actx context.Context) error {
			var err error
			res, err = ensure(actx, js, s)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("provisioning %s: %w", s, err)
		}
		if res.Replicas > s.Config.Replicas {
			log.Warn("store keeps more replicas than asked; not lowering them",
				"store", s.Stream(), "replicas", res.Replicas, "asked", s.Config.Replicas)
		}
		log.Info("store provisioned", "store", s.Stream(), "action", res.Action, "replicas", res.Replicas)
		out = append(out, res)
	}
	return out, nil
}

// ensure makes one attempt at provisioning s.
func ensure(ctx context.Context, js jetstream.JetStream, s Store) (Result, error) {
	cfg := s.Config
	old, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err := js.CreateStream(ctx, cfg)
		if err != nil {
			return Result{}, err
		}
		return Result{Store: s, Action: Created, Replicas: st.CachedInfo().Config.Replicas}, nil
	}
	if err != nil {
		return Result{}, err
	}
	before := old.CachedInfo().Config
	cfg.Replicas = max(cfg.Replicas, before.Replicas)
	st, err := js.UpdateStream(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	after := st.CachedInfo().Config
	act := Unchanged
	if !reflect.DeepEqual(before, after) {
		act = Updated
	}
	return Result{Store: s, Action: act, Replicas: after.Replicas}, nil
}

// waitJetStream waits until JetStream answers an account info request: on
// a cluster, until it has a meta leader.
func waitJetStream(ctx context.Context, js jetstream.JetStream) error {
	err := retry(ctx, js, "$JS.API.INFO", func(actx context.Context) error {
		_, err := js.AccountInfo(actx)
		return err
	})
	if err != nil {
		return fmt.Errorf("waiting for JetStream: %w", err)
	}
	return nil
}

// retry calls attempt, each time with attemptTimeout, until it succeeds,
// fails for good, or ctx ends. A timeout after the server refused this
// connection a subject starting with api is a failure for good: the
// identity is not the provisioner.
func retry(ctx context.Context, js jetstream.JetStream, api string, attempt func(context.Context) error) error {
	for n := 1; ; n++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := attempt(actx)
		cancel()
		if err == nil {
			return nil
		}
		if refused := permissionRefused(js, api); refused != nil {
			return refused
		}
		if !transient(err) {
			return err
		}
		if !wait.Sleep(ctx, backoff(n)) {
			return fmt.Errorf("no success before the deadline after %d attempts: %w", n, err)
		}
	}
}

// permissionRefused returns the server's refusal of a subject starting
// with api to js's connection, if that is its last error.
func permissionRefused(js jetstream.JetStream, api string) error {
	nc := js.Conn()
	if nc == nil {
		return nil
	}
	if err := nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), api) {
		return fmt.Errorf("the server refused this identity the JetStream API (only the provisioner may create or update a store): %w", err)
	}
	return nil
}

// transient reports whether a failed attempt may succeed later: JetStream
// not answering yet (no meta leader, a stream leader moving, no responder),
// no peers for the replicas yet, a store created concurrently.
func transient(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrJetStreamNotEnabled):
		return true
	case errors.As(err, &apiErr):
		return apiErr.Code >= 500 || apiErr.ErrorCode == jsErrCodeNoPeers ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamNameInUse
	}
	return false
}

// jsErrCodeNoPeers is JetStream's "no suitable peers for placement": a
// fresh cluster whose nodes have not all reported yet.
const jsErrCodeNoPeers jetstream.ErrorCode = 10005

// backoff is the jittered wait before attempt n+1.
func backoff(n int) time.Duration {
	b := backoffMax
	if n < 8 {
		b = min(backoffMin<<(n-1), backoffMax)
	}
	return wait.Jitter(b)
}
