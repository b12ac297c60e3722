package faulttest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/internal/natstest"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// served returns, for each named instance of service, how many requests
// it has served, waiting until every one of them answers. nc must be
// allowed to ask discovery (the bridge's).
func served(t *testing.T, nc *nats.Conn, service string, instances ...string) map[string]int {
	t.Helper()
	var (
		mu  sync.Mutex
		got = map[string]int{}
	)
	inbox := nc.NewInbox()
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		var st micro.Stats
		if json.Unmarshal(m.Data, &st) != nil {
			return
		}
		n := 0
		for _, ep := range st.Endpoints {
			n += ep.NumRequests
		}
		mu.Lock()
		got[st.Metadata["instance"]] = n
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	natstest.CheckFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, name := range instances {
			if _, ok := got[name]; !ok {
				// Ask again: the instance may still be starting.
				if err := nc.PublishRequest("$SRV.STATS."+service, inbox, nil); err != nil {
					return err
				}
				return fmt.Errorf("instance %s of %s has not answered", name, service)
			}
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	out := map[string]int{}
	for _, name := range instances {
		out[name] = got[name]
	}
	return out
}

// latency summarises call durations.
type latency []time.Duration

func (l latency) String() string {
	if len(l) == 0 {
		return "no calls"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	pick := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))] }
	return fmt.Sprintf("p50 %v, p99 %v, max %v",
		pick(0.5).Round(time.Microsecond), pick(0.99).Round(time.Microsecond), s[len(s)-1].Round(time.Microsecond))
}
