package trace

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestFollowWithoutStreamIsNotFound(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	js := jsFor(t, natstest.Connect(t, srv))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, from := range []time.Time{{}, time.Unix(1, 0)} {
		err := Follow(ctx, js, from, func(Event) error { return nil })
		if rpc.CodeOf(err) != rpc.CodeNotFound {
			t.Errorf("Follow from %v without a stream = %v, want 404", from, err)
		}
	}
}

func TestFollowFromATimeStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	srv, js := startJS(t)
	pub := newPublisher(t, natstest.Connect(t, srv), "fee-calc")
	tid := newTraceID(time.Now())
	for i := range 3 {
		pub.Emit(event(tid, i))
	}
	closePublishers(t, pub)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stop := errors.New("seen enough")
	var got []Event
	err := Follow(ctx, js, time.Now().Add(-time.Minute), func(ev Event) error {
		got = append(got, ev)
		if len(got) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(got) != 2 || got[0].RequestID == got[1].RequestID || got[0].TraceID != tid {
		t.Fatalf("Follow = %v after %+v, want the callback's error after two stored events", err, got)
	}
	// A ctx that ends is a normal stop.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if err := Follow(short, js, time.Time{}, func(Event) error { return nil }); err != nil {
		t.Errorf("Follow ended by its ctx = %v, want nil", err)
	}
}

func TestGetRefusesZeroAndReportsUnknownTrace(t *testing.T) {
	t.Parallel()
	srv, js := startJS(t)
	pub := newPublisher(t, natstest.Connect(t, srv), "fee-calc")
	pub.Emit(event(newTraceID(time.Now()), 0))
	closePublishers(t, pub)
	ctx := context.Background()
	if _, err := Get(ctx, js, TraceID{}); rpc.CodeOf(err) != rpc.CodeBadRequest {
		t.Errorf("Get(zero id) = %v, want 400", err)
	}
	// Neither a trace id of the mesh nor a foreign one is there.
	foreign, _ := ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	for _, id := range []TraceID{newTraceID(time.Now()), foreign} {
		if _, err := Get(ctx, js, id); rpc.CodeOf(err) != rpc.CodeNotFound || !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) = %v, want 404 ErrNotFound", id, err)
		}
	}
}
