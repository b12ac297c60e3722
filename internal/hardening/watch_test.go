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

func (m *fixture) watch(t testing.TB) *watcher {
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
// subjects published since the last look: requests to booths (svc.>, but
// not the trace events on svc.trace.>), and any other subject but
// discovery, replies and the JetStream API.
func (w *watcher) published(t testing.TB, m *fixture) (svc, other []string) {
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
		case isRequest(s):
			svc = append(svc, s)
		case !hasAnyPrefix(s, "$SRV.", "_INBOX.", "$JS.", "svc.trace."):
			other = append(other, s)
		}
	}
}

// isRequest reports whether subject is a call to a booth: svc.>, but not
// the trace events on svc.trace.>.
func isRequest(subject string) bool {
	return strings.HasPrefix(subject, "svc.") && !strings.HasPrefix(subject, "svc.trace.")
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// requestsNow is published without waiting: after the two flushes, what
// the bridge published before its flush has been delivered ahead of the
// watcher's PONG, so it is already pending. It returns the request
// subjects only (isRequest).
func (w *watcher) requestsNow(t testing.TB, m *fixture) []string {
	t.Helper()
	if err := m.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	var svc []string
	for {
		n, _, err := w.sub.Pending()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return svc
		}
		msg, err := w.sub.NextMsg(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if isRequest(msg.Subject) {
			svc = append(svc, msg.Subject)
		}
	}
}
