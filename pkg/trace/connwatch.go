package trace

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// connWatch lets goroutines wait, without polling, until a NATS connection
// is connected again.
type connWatch struct {
	nc      *nats.Conn
	status  chan nats.Status
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every status change
}

func watchConn(nc *nats.Conn) *connWatch {
	w := &connWatch{nc: nc, changed: make(chan struct{})}
	w.status = nc.StatusChanged(nats.CONNECTED, nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	go w.run()
	return w
}

func (w *connWatch) run() {
	for range w.status {
		w.mu.Lock()
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
}

// wait returns true once the connection is up, false if it is closed or
// abort is closed first.
func (w *connWatch) wait(abort <-chan struct{}) bool {
	for {
		if w.nc.IsConnected() {
			return true
		}
		if w.nc.IsClosed() {
			return false
		}
		w.mu.Lock()
		changed := w.changed
		w.mu.Unlock()
		// A change between the checks above and taking the channel is seen
		// by checking again; one after it closes the channel.
		if w.nc.IsConnected() {
			return true
		}
		t := time.NewTimer(time.Second) // a safety net should a change be missed
		select {
		case <-changed:
		case <-t.C:
		case <-abort:
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// stop releases the watch.
func (w *connWatch) stop() { w.nc.RemoveStatusListener(w.status) }
