// Package otlp exports the mesh's trace events to an OpenTelemetry
// backend (Jaeger, Tempo, an OpenTelemetry Collector) over OTLP/HTTP with
// protobuf bodies. An Exporter follows the SVC_TRACE stream (trace.Follow,
// so events an emitter may not have made are withheld), turns each event
// into a span (Spans: the W3C ids and parent, the service as the resource's
// service.name, kind, times, attributes and status), and posts them in
// batches to <endpoint>/v1/traces, retrying with backoff what the endpoint
// may take later. It reads the stream, never the call path: a slow or dead
// endpoint delays the export, never a call, and the events wait in the
// stream meanwhile, so memory stays bounded by the queue and one batch.
//
// It depends on go.opentelemetry.io/proto/otlp's message packages only
// (trace, common, resource: generated protobuf, nothing else): a request
// is the TracesData message, the same bytes as the collector's
// ExportTraceServiceRequest, whose package would bring gRPC in.
package otlp
