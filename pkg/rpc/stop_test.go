package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// awaitGone waits until no instance of service answers any more.
func awaitGone(t *testing.T, s *server.Server, service, path string) {
	t.Helper()
	probe := newClient(t, s, rpc.WithoutBreaker(), rpc.WithRetries(0, 0))
	natstest.CheckFor(t, 2*time.Second, 2*time.Millisecond, func() error {
		_, err := probe.CallRaw(context.Background(), service, path, []byte(`{}`))
		if !errors.Is(err, rpc.ErrNoInstance) {
			return fmt.Errorf("%s still answers: %v", service, err)
		}
		return nil
	})
}

// endpointModes are the ways a booth runs a handler: on its worker pool, or
// Inline on the subscription's goroutine. Stop must drain both alike.
var endpointModes = []struct {
	name string
	opts []rpc.EndpointOption
}{
	{"pool", nil},
	{"inline", []rpc.EndpointOption{rpc.Inline()}},
}

// A call in flight when Stop is called completes, and Stop returns after it.
func TestStopDrainsInFlight(t *testing.T) {
	t.Parallel()
	for _, mode := range endpointModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			testStopDrainsInFlight(t, mode.opts)
		})
	}
}

func testStopDrainsInFlight(t *testing.T, opts []rpc.EndpointOption) {
	s := natstest.Start(t)
	b := startBooth(t, s, "payment")
	entered := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	handleOpts(t, b, "/charge", func(context.Context, *rpc.Message) (*rpc.Message, error) {
		close(entered)
		recv(t, release)
		finished.Store(true)
		return &rpc.Message{Data: []byte(`{"txn":"t-1"}`)}, nil
	}, opts...)
	client := newClient(t, s, rpc.WithAttemptTimeout(5*time.Second))
	reply := make(chan error, 1)
	go func() {
		data, err := client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`))
		if err == nil && string(data) != `{"txn":"t-1"}` {
			err = fmt.Errorf("reply %s", data)
		}
		reply <- err
	}()
	recv(t, entered)

	stopped := make(chan error, 1)
	var finishedWhenStopped atomic.Bool
	go func() {
		err := b.Stop(within(t, 5*time.Second))
		finishedWhenStopped.Store(finished.Load())
		stopped <- err
	}()
	// The booth takes no new call while it drains.
	awaitGone(t, s, "payment", "/charge")
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a call was in flight", err)
	default:
	}
	close(release)
	if err := recv(t, reply); err != nil {
		t.Errorf("in-flight call: %v", err)
	}
	if err := recv(t, stopped); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if !finishedWhenStopped.Load() {
		t.Error("Stop returned before the in-flight handler finished")
	}
	if err := b.Stop(within(t, time.Second)); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// When Stop's ctx ends first, running handlers are cancelled and Stop says so.
func TestStopDeadline(t *testing.T) {
	t.Parallel()
	for _, mode := range endpointModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			testStopDeadline(t, mode.opts)
		})
	}
}

func testStopDeadline(t *testing.T, opts []rpc.EndpointOption) {
	s := natstest.Start(t)
	b, err := rpc.NewBooth(natstest.Connect(t, s), rpc.BoothConfig{Name: "license-printer"}, rpc.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	handlerErr := make(chan error, 1)
	handleOpts(t, b, "/generate", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		close(entered)
		<-ctx.Done()
		handlerErr <- ctx.Err()
		return nil, ctx.Err()
	}, opts...)
	client := newClient(t, s, rpc.WithAttemptTimeout(5*time.Second), rpc.WithRetries(0, 0))
	reply := make(chan error, 1)
	go func() {
		_, err := client.CallRaw(context.Background(), "license-printer", "/generate", []byte(`{}`))
		reply <- err
	}()
	recv(t, entered)
	err = b.Stop(within(t, 50*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop = %v, want DeadlineExceeded", err)
	}
	if got := recv(t, handlerErr); !errors.Is(got, context.Canceled) {
		t.Errorf("handler's ctx ended with %v, want Canceled", got)
	}
	if got := rpc.CodeOf(recv(t, reply)); got != rpc.CodeDeadlineExceeded {
		t.Errorf("caller got code %v, want %v", got, rpc.CodeDeadlineExceeded)
	}
	if again := b.Stop(within(t, time.Second)); !errors.Is(again, context.DeadlineExceeded) {
		t.Errorf("second Stop = %v, want the first Stop's result", again)
	}
}

// Stop is not fooled by other subscriptions on the booth's connection: here
// the in-flight handler makes the connection's first outgoing call (a new
// reply subscription) while the booth drains.
func TestStopWithSharedConnection(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	audit := startBooth(t, s, "audit-log")
	handleRaw(t, audit, "/record", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() })

	nc := natstest.Connect(t, s)
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: "payment"}, rpc.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := rpc.NewClient(nc)
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	release := make(chan struct{})
	handleRaw(t, b, "/charge", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
		close(entered)
		recv(t, release)
		if _, err := shared.CallRaw(ctx, "audit-log", "/record", []byte(`{}`)); err != nil {
			return nil, err
		}
		return ok()
	})
	client := newClient(t, s, rpc.WithAttemptTimeout(5*time.Second))
	reply := make(chan error, 1)
	go func() {
		_, err := client.CallRaw(context.Background(), "payment", "/charge", []byte(`{}`))
		reply <- err
	}()
	recv(t, entered)
	stopped := make(chan error, 1)
	go func() { stopped <- b.Stop(within(t, 2*time.Second)) }()
	awaitGone(t, s, "payment", "/charge")
	close(release)
	if err := recv(t, reply); err != nil {
		t.Errorf("in-flight call: %v", err)
	}
	if err := recv(t, stopped); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// instance counts what one booth instance did.
type instance struct {
	booth                      *rpc.Booth
	accepted, finished, active atomic.Int32
}

// Two instances share the load; stopping one mid-load loses no call.
func TestStopMidLoadLosesNothing(t *testing.T) {
	t.Parallel()
	for _, mode := range endpointModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			testStopMidLoadLosesNothing(t, mode.opts)
		})
	}
}

func testStopMidLoadLosesNothing(t *testing.T, opts []rpc.EndpointOption) {
	s := natstest.Start(t)
	var ids sync.Map // request id -> number of deliveries
	var retried atomic.Int32
	insts := make([]*instance, 2)
	for i := range insts {
		// Two workers (or one inline handler) for eight callers: requests
		// queue in the subscription, so Stop has a backlog to drain.
		in := &instance{booth: startBooth(t, s, "fee-calc", rpc.WithConcurrency(2))}
		insts[i] = in
		handleOpts(t, in.booth, "/calculate", func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
			in.accepted.Add(1)
			in.active.Add(1)
			defer func() { in.active.Add(-1); in.finished.Add(1) }()
			ci, _ := rpc.CallInfoFromContext(ctx)
			if ci.Attempt > 1 {
				retried.Add(1)
			}
			n, _ := ids.LoadOrStore(ci.RequestID, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			time.Sleep(time.Millisecond) // the work
			return ok()
		}, opts...)
	}
	client := newClient(t, s, rpc.WithoutBreaker())

	const workers, total = 8, 500
	var (
		next, done atomic.Int32
		failures   atomic.Int32
		firstErr   error
		errOnce    sync.Once
		midway     = make(chan struct{})
		wg         sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= total {
				if _, err := client.CallRaw(context.Background(), "fee-calc", "/calculate", []byte(`{}`)); err != nil {
					failures.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
				if done.Add(1) == total/2 {
					close(midway)
				}
			}
		}()
	}
	recv(t, midway)
	stopping := insts[0]
	acceptedBefore, runningBefore := stopping.accepted.Load(), stopping.active.Load()
	stopStart := time.Now()
	err := stopping.booth.Stop(within(t, 5*time.Second))
	stopTook := time.Since(stopStart)
	acceptedAtStop, finishedAtStop, activeAtStop := stopping.accepted.Load(), stopping.finished.Load(), stopping.active.Load()
	wg.Wait()

	if err != nil {
		t.Errorf("Stop: %v", err)
	}
	if f := failures.Load(); f != 0 {
		t.Errorf("%d of %d calls failed; first: %v", f, total, firstErr)
	}
	if acceptedAtStop != finishedAtStop || activeAtStop != 0 {
		t.Errorf("stopped instance: accepted %d, finished %d, running %d when Stop returned", acceptedAtStop, finishedAtStop, activeAtStop)
	}
	if got := stopping.accepted.Load(); got != acceptedAtStop {
		t.Errorf("stopped instance accepted %d calls after Stop returned", got-acceptedAtStop)
	}
	if acceptedBefore == 0 || insts[1].accepted.Load() == 0 {
		t.Errorf("load not shared: instance 1 took %d before stopping, instance 2 took %d", acceptedBefore, insts[1].accepted.Load())
	}
	var distinct, dup int
	ids.Range(func(_, v any) bool {
		distinct++
		if v.(*atomic.Int32).Load() > 1 {
			dup++
		}
		return true
	})
	if distinct != total || dup != 0 || retried.Load() != 0 {
		t.Errorf("handlers saw %d distinct calls (want %d), %d delivered twice, %d retries (want 0)", distinct, total, dup, retried.Load())
	}
	t.Logf("stop mid-load: %d calls; instance 1 served %d (%d running when Stop began, %d more delivered during its drain of %v); instance 2 served %d",
		total, acceptedAtStop, runningBefore, acceptedAtStop-acceptedBefore, stopTook.Round(10*time.Microsecond), insts[1].accepted.Load())
}
