// Package rpc is the HMS-SVC call model: the client that callers use
// (Client.Call) and the booth side that services use (Booth, Handle).
//
// Both sides are built from one Endpoint type and one Middleware type: retry
// (within a retry budget per service), circuit breaker, deadline propagation,
// panic recovery and the exactly-once deduplication of NotIdempotent
// endpoints are each a Middleware in a file of their own, chained around the
// NATS transport on the client and around the typed handler in a booth.
// Errors carry a numeric, HTTP-like Code that travels in the NATS micro
// error headers. Call tokens (pkg/calltoken), tracing (pkg/trace) and
// metrics plug in as middlewares; pkg/mesh assembles them all in their one
// order, which is how a program should get a Client or a Booth.
package rpc
