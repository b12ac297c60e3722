// Package bench is the side-by-side benchmark of HMS-SVC behind `make bench`:
// it measures the mesh against what it replaces (a raw nats.go request to a
// plain micro endpoint, a plain Go HTTP/2 server, nginx in front of one) in
// the same run, alternating the two sides of each pair over several rounds
// and reporting medians and ratios against the targets of the performance
// issue.
//
// Latencies come from a log-linear histogram (Histogram); open-loop runs time
// each call from its scheduled send, so queueing is never hidden. Run
// gathers the rows and Report renders them as the table of BENCHMARKS.md.
package bench
