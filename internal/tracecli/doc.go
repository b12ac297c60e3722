// Package tracecli is what `meshctl trace` prints: Tail writes every trace
// event of the SVC_TRACE stream as one line, live, from now or from a past
// time; Show writes one trace's hops in causal order, indented under the
// hop that caused them, followed by its Mermaid sequence diagram. Both read
// through a jetstream.JetStream, so they run against any NATS server the
// caller has connected to.
package tracecli
