package trace

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// BenchmarkEmit measures Emit on a publisher connected to a real server;
// events it cannot hold are dropped (reported as dropped/op).
func BenchmarkEmit(b *testing.B) {
	srv := natstest.Start(b)
	js := jsFor(b, natstest.Connect(b, srv))
	if _, err := EnsureStream(context.Background(), js, StreamConfig{MaxAge: time.Hour, MaxBytes: 256 << 20, Memory: true}); err != nil {
		b.Fatal(err)
	}
	pub, err := NewPublisher(natstest.Connect(b, srv), "fee-calc")
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close(context.Background())
	ev := event(newTraceID(time.Now()), 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			pub.Emit(ev)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(pub.Dropped())/float64(b.N), "dropped/op")
}

// BenchmarkClientMiddleware measures what tracing adds to one attempt: a
// span, the traceparent header and an Emit to a real publisher.
func BenchmarkClientMiddleware(b *testing.B) {
	srv := natstest.Start(b)
	pub, err := NewPublisher(natstest.Connect(b, srv), "gateway")
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close(context.Background())
	reply := &rpc.Message{}
	ep := ClientMiddleware(pub, "gateway")(func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) { return reply, nil })
	ctx := ContextWithSpan(context.Background(), SpanContext{TraceID: newTraceID(time.Now()), SpanID: newSpanID(), Flags: FlagSampled})
	req := &rpc.Message{Service: "fee-calc", Path: "/calculate", Header: map[string][]string{rpc.HeaderRequestID: {"0b9f5e0c-8d1a-4a47-9d55-3f1f3f0e6a01"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ep(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServerMiddleware measures what tracing adds to a booth's
// handling of one request.
func BenchmarkServerMiddleware(b *testing.B) {
	srv := natstest.Start(b)
	pub, err := NewPublisher(natstest.Connect(b, srv), "fee-calc")
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close(context.Background())
	reply := &rpc.Message{}
	ep := ServerMiddleware(pub, "fee-calc-1")(func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) { return reply, nil })
	req := &rpc.Message{Service: "fee-calc", Path: "/calculate", Header: map[string][]string{
		rpc.HeaderTraceparent: {validTP}, rpc.HeaderRequestID: {"0b9f5e0c-8d1a-4a47-9d55-3f1f3f0e6a01"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ep(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeBatch measures the publisher's encoding of a full batch.
func BenchmarkEncodeBatch(b *testing.B) {
	events := make([]Event, DefaultBatchSize)
	tid := newTraceID(time.Now())
	for i := range events {
		events[i] = event(tid, i)
		events[i].Caller = "gateway"
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBatch(buf[:0], events)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkCall compares round trips over NATS with tracing off and on
// (both sides traced, events stored in a file-backed SVC_TRACE).
func BenchmarkCall(b *testing.B) {
	for _, traced := range []bool{false, true} {
		name := "off"
		if traced {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			srv := natstest.Start(b)
			js := jsFor(b, natstest.Connect(b, srv))
			if _, err := EnsureStream(context.Background(), js, StreamConfig{MaxAge: time.Hour, MaxBytes: 256 << 20}); err != nil {
				b.Fatal(err)
			}
			ncBooth, ncCaller := natstest.Connect(b, srv), natstest.Connect(b, srv)
			var boothMW, clientOpts = []rpc.Middleware{}, []rpc.Option{}
			var pubs []*Publisher
			if traced {
				pb, _ := NewPublisher(ncBooth, "fee-calc")
				pc, _ := NewPublisher(ncCaller, "gateway")
				pubs = append(pubs, pb, pc)
				boothMW = append(boothMW, ServerMiddleware(pb, "fee-calc-1"))
				clientOpts = append(clientOpts, rpc.WithAttemptMiddleware(ClientMiddleware(pc, "gateway")))
			}
			startFeeBooth(b, ncBooth, "fee-calc", boothMW...)
			client, _ := rpc.NewClient(ncCaller, clientOpts...)
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var res feeRes
				for pb.Next() {
					if err := client.Call(context.Background(), "fee-calc", "/calculate", feeReq{"professional-engineer"}, &res); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			var dropped uint64
			for _, p := range pubs {
				_ = p.Close(context.Background())
				dropped += p.Dropped()
			}
			b.ReportMetric(float64(dropped), "dropped")
		})
	}
}

// BenchmarkGet measures Get's headers-only scan: 10,000 messages of 10
// events each, each event its own trace, the wanted one in the last.
func BenchmarkGet(b *testing.B) {
	srv := natstest.Start(b)
	nc := natstest.Connect(b, srv)
	js := jsFor(b, nc)
	ctx := context.Background()
	if _, err := EnsureStream(ctx, js, StreamConfig{MaxAge: time.Hour, MaxBytes: 512 << 20, Memory: true}); err != nil {
		b.Fatal(err)
	}
	const msgs, per = 10_000, 10
	var want TraceID
	for m := range msgs {
		events := make([]Event, per)
		ids := make([]string, per)
		for i := range events {
			events[i] = event(newTraceID(time.Now()), i)
			ids[i] = events[i].TraceID.String()
		}
		want = events[per-1].TraceID
		msg := &nats.Msg{Subject: "svc.trace.fee-calc", Header: nats.Header{}, Data: appendBatch(nil, events)}
		msg.Header.Set(HeaderTraceIDs, strings.Join(ids, ","))
		if _, err := js.PublishMsgAsync(msg); err != nil {
			b.Fatal(err)
		}
		if m%1000 == 999 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
	for b.Loop() {
		got, err := Get(ctx, js, want)
		if err != nil || len(got) != 1 {
			b.Fatalf("Get = %d events, %v; want 1", len(got), err)
		}
	}
	b.ReportMetric(msgs, "msgs-scanned/op")
}
