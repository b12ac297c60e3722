package natstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestClusterReplicatesAndSurvivesLeaderRestart(t *testing.T) {
	c := StartCluster(t, 3, nil)
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var leader int
	CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if leader = c.StreamLeader("T"); leader < 0 {
			return fmt.Errorf("no leader for T")
		}
		return nil
	})
	c.Stop(leader)
	// Each attempt has a deadline of its own, so a failover that takes long
	// on a loaded machine is waited out, not mistaken for the test's end.
	CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := js.Publish(pctx, "t.b", []byte("2"), jetstream.WithMsgID("b"))
		return err
	})
	c.Restart(leader)
	c.WaitReady(20 * time.Second)
	CheckFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		info, err := js.Stream(ctx, "T")
		if err != nil {
			return err
		}
		if got := info.CachedInfo().State.Msgs; got != 2 {
			return fmt.Errorf("stream has %d messages, want 2", got)
		}
		return nil
	})
}
