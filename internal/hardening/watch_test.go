package hardening_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// watcher sees every message published in the mesh's account, through the
// watcher identity (AddWatcher): the proof that a refused request published
// nothing.
type watcher struct {
	nc  *nats.Conn
	sub *nats.Subscription
}

func (m *mesh) watch(t *testing.T) *watcher {
	t.Helper()
	w := &watcher{nc: connectAs(t, m.srv, watcherID)}
	var err error
	if w.sub, err = w.nc.SubscribeSync(">"); err != nil {
		t.Fatal(err)
	}
	if err := w.sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := w.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// published flushes the bridge's connection, then the watcher's, so that
// what the bridge published has reached the watcher, and returns the
// subjects published since the last look: requests to booths (svc.>), and
// any other subject but discovery, replies and the JetStream API.
func (w *watcher) published(t *testing.T, m *mesh) (svc, other []string) {
	t.Helper()
	if err := m.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := w.sub.NextMsg(10 * time.Millisecond)
		if err != nil {
			return svc, other
		}
		switch s := msg.Subject; {
		case strings.HasPrefix(s, "svc."):
			svc = append(svc, s)
		case !hasAnyPrefix(s, "$SRV.", "_INBOX.", "$JS."):
			other = append(other, s)
		}
	}
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
