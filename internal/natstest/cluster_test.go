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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
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
	CheckFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		_, err := js.Publish(ctx, "t.b", []byte("2"))
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
