package runner_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// The provisioner and two booth-runners started at the same moment on a
// fresh 3-node cluster all come up: the booths wait for the stores the
// provisioner is still creating instead of exiting, and calls succeed.
func TestBoothRunnersRaceTheProvisionerOnAFreshCluster(t *testing.T) {
	c := natstest.StartCluster(t, 3, nil)
	nc, err := nats.Connect(c.URLs(), nats.Name(setupConn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 3)
	runners := make([]*runner.Runner, 2)
	wg.Add(3)
	go func() {
		defer wg.Done()
		<-start
		_, errs[0] = stores.Provision(ctx, js, stores.Options{Replicas: 3,
			Trace: trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}}, quiet())
	}()
	for i := range runners {
		go func() {
			defer wg.Done()
			<-start
			runners[i], errs[i+1] = runner.Start(ctx, runner.Config{InsecureNoCredentials: true,
				NATSURL: c.URLs(), Booths: []string{"audit-log", "payment"}, Replicas: 3,
				InstanceName: fmt.Sprintf("racer-%d", i+1), StartTimeout: 20 * time.Second, Logger: quiet()})
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	for i, r := range runners {
		if r != nil {
			t.Cleanup(func() { _ = r.Stop(context.Background()) })
		}
		if errs[i+1] != nil {
			t.Errorf("booth-runner %d: %v", i+1, errs[i+1])
		}
	}
	if errs[0] != nil {
		t.Errorf("provisioning: %v", errs[0])
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("provisioner and 2 booth-runners up in %v", time.Since(began).Round(time.Millisecond))

	client, err := rpc.NewClient(nc, rpc.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	const calls = 10
	for i := range calls {
		var rep booths.RecordReply
		req := booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: fmt.Sprintf("doc-%d", i)}
		if err := client.Call(ctx, "audit-log", "/record", req, &rep); err != nil {
			t.Fatalf("call %d of %d: %v", i+1, calls, err)
		}
	}
}
