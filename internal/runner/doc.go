// Package runner is the logic of booth-runner: it runs the demo booths a
// Config names, each on its own NATS connection under its own identity, and
// drains them on shutdown so no request in flight is lost. cmd/booth-runner
// only parses flags into a Config and handles signals; a later sidecar mode
// that joins a service in any language to the mesh belongs here too.
package runner
