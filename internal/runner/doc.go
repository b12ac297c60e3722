// Package runner is the logic of booth-runner: it runs the demo booths a
// Config names, each on its own NATS connection under its own identity with
// its own trace publisher (svc.trace.<booth>), measures them all in one
// Prometheus registry (served on a loopback MetricsListen), and on shutdown
// drains them, then publishes their last trace events, so no request in
// flight and no event is lost. cmd/booth-runner only parses flags into a
// Config and handles signals; a later sidecar mode that joins a service in
// any language to the mesh belongs here too.
package runner
