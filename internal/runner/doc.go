// Package runner is the logic of booth-runner: it runs the demo booths a
// Config names, each a member of the mesh (pkg/mesh) as its own identity,
// with its own connection and trace publisher (svc.trace.<booth>), or, in
// sidecar mode, one app in any language as one identity (internal/sidecar).
// It measures them all in one Prometheus registry (served on a loopback
// MetricsListen), and on shutdown drains them, then publishes their last
// trace events, so no request in flight and no event is lost.
// cmd/booth-runner only parses flags into a Config and handles signals.
package runner
