package mesh

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// revokedLogEvery bounds the log lines of one revoked identity's refused
// calls: the first is logged at once, the rest counted into the next line.
const revokedLogEvery = 10 * time.Second

// revokedCalls counts and logs the calls a booth refuses because a revoked
// identity makes them.
type revokedCalls struct {
	m *Mesh

	mu     sync.Mutex
	logged map[string]time.Time // identity -> last line
	since  map[string]int       // refused since that line
}

// middleware wraps the booth's token check (check).
func (r *revokedCalls) middleware(check rpc.Middleware) rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		checked := check(next)
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			res, err := checked(ctx, req)
			var re *calltoken.RevokedError
			if err != nil && errors.As(err, &re) {
				r.m.cfg.Metrics.m.RevokedCall(re.Identity)
				r.log(re.Identity, req)
			}
			return res, err
		}
	}
}

func (r *revokedCalls) log(identity string, req *rpc.Message) {
	r.mu.Lock()
	now := time.Now()
	r.since[identity]++
	if now.Sub(r.logged[identity]) < revokedLogEvery {
		r.mu.Unlock()
		return
	}
	n := r.since[identity]
	r.logged[identity], r.since[identity] = now, 0
	r.mu.Unlock()
	r.m.cfg.Logger.Warn("call of a revoked identity refused", "revoked", identity, "service", req.Service,
		"path", req.Path, "refused_since_last_line", n)
}
