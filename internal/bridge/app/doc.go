// Package app is the broker-bridge process: it turns the command's flags
// into a running, secure bridge. It reads the matrix and the credentials
// folder, starts an embedded NATS server with JetStream and the mesh's
// authorization (mTLS, an NKey user per identity) when no external NATS URL
// is given, connects as the bridge identity, makes the SVC_TRACE stream and
// the process's trace publisher and metrics, serves HTTPS with client
// certificates required (and, if asked, a read-only monitoring listener on
// loopback), and on shutdown finishes requests in flight, publishes the
// last trace events, drains NATS and stops the embedded server, in that
// order.
package app
