package otlp

import (
	"cmp"
	"slices"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// ScopeName is the instrumentation scope of every exported span.
const ScopeName = "github.com/hms-svc/hms-svc/pkg/trace"

// The span attributes of an event, beside the resource's service.name and
// service.instance.id.
const (
	// AttrRPCSystem is "hms-svc" on every span.
	AttrRPCSystem = "rpc.system"
	// AttrRPCService and AttrRPCMethod are the callee and its path
	// ("fee-calc", "/calculate").
	AttrRPCService = "rpc.service"
	AttrRPCMethod  = "rpc.method"
	// AttrPeerService is the callee on a client span: the service at the
	// other end, which Jaeger draws as a dependency.
	AttrPeerService = "peer.service"
	// AttrCaller is the calling identity ("gateway", "bridge").
	AttrCaller = "hms.caller"
	// AttrRequestID is Svc-Request-Id, the same on every retry of a call.
	AttrRequestID = "hms.request_id"
	// AttrAttempt is the caller's attempt, 1-based.
	AttrAttempt = "hms.attempt"
	// AttrCode is the result code: 0 for success, else the rpc.Code.
	AttrCode = "hms.code"
	// AttrInstance is the process or booth instance that emitted the event.
	AttrInstance = "hms.instance"
)

// unknownService is the service.name of a client span with no caller,
// which OpenTelemetry spells so.
const unknownService = "unknown_service"

// ServiceOf returns the service a span of ev belongs to, its resource's
// service.name: the callee for a booth's or the bridge's handling (a
// server span), the caller for an attempt (a client span).
func ServiceOf(ev *trace.Event) string {
	if ev.Kind == trace.KindClient {
		return cmp.Or(ev.Caller, unknownService)
	}
	return ev.Service
}

// Span returns ev as an OTLP span: its ids, kind, times, attributes, and
// status (an error with the event's message when its code is not 0).
func Span(ev *trace.Event) *tracepb.Span {
	s := &tracepb.Span{
		TraceId:           ev.TraceID[:],
		SpanId:            ev.SpanID[:],
		Name:              ev.Service + " " + ev.Path,
		Kind:              tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: uint64(ev.Start.UnixNano()),
		EndTimeUnixNano:   uint64(ev.Stop.UnixNano()),
		Attributes: []*commonpb.KeyValue{
			str(AttrRPCSystem, "hms-svc"), str(AttrRPCService, ev.Service), str(AttrRPCMethod, ev.Path),
			integer(AttrAttempt, int64(ev.Attempt)), integer(AttrCode, int64(ev.Code)),
		},
	}
	if !ev.ParentSpanID.IsZero() {
		s.ParentSpanId = ev.ParentSpanID[:]
	}
	if ev.Kind == trace.KindClient {
		s.Kind = tracepb.Span_SPAN_KIND_CLIENT
		s.Attributes = append(s.Attributes, str(AttrPeerService, ev.Service))
	}
	for _, a := range []struct{ key, value string }{
		{AttrCaller, ev.Caller}, {AttrRequestID, ev.RequestID}, {AttrInstance, ev.Instance},
	} {
		if a.value != "" {
			s.Attributes = append(s.Attributes, str(a.key, a.value))
		}
	}
	if ev.Code != 0 {
		s.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: cmp.Or(ev.Error, "code "+ev.Code.String())}
	}
	return s
}

// resourceKey groups spans by the resource that made them.
type resourceKey struct{ service, instance string }

// Request returns events as one OTLP request body message: their spans
// grouped by resource (service.name and service.instance.id), resources
// in name order.
func Request(events []trace.Event) *tracepb.TracesData {
	groups := map[resourceKey][]*tracepb.Span{}
	for i := range events {
		ev := &events[i]
		k := resourceKey{ServiceOf(ev), ev.Instance}
		groups[k] = append(groups[k], Span(ev))
	}
	keys := make([]resourceKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b resourceKey) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.instance, b.instance))
	})
	out := &tracepb.TracesData{ResourceSpans: make([]*tracepb.ResourceSpans, 0, len(keys))}
	for _, k := range keys {
		res := &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", k.service)}}
		if k.instance != "" {
			res.Attributes = append(res.Attributes, str("service.instance.id", k.instance))
		}
		out.ResourceSpans = append(out.ResourceSpans, &tracepb.ResourceSpans{
			Resource: res,
			ScopeSpans: []*tracepb.ScopeSpans{{
				Scope: &commonpb.InstrumentationScope{Name: ScopeName},
				Spans: groups[k],
			}},
		})
	}
	return out
}

func str(key, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func integer(key string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}
