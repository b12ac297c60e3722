// Package app is the broker-bridge process: it turns the command's flags
// into a running bridge. It loads TLS files, starts an embedded NATS server
// with JetStream when no external NATS URL is given, connects, serves the
// bridge, and on shutdown finishes requests in flight, drains NATS and stops
// the embedded server, in that order.
package app
