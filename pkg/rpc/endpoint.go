package rpc

import (
	"context"

	"github.com/nats-io/nats.go"
)

// Message is one request or reply as it crosses the mesh.
type Message struct {
	// Service and Path name the callee ("fee-calc", "/calculate").
	Service string
	Path    string
	// Subject is the NATS subject, derived from Service and Path.
	Subject string
	// Header holds the wire headers; never nil on a request that reached a
	// middleware.
	Header nats.Header
	// Data is the JSON body, passed through untouched.
	Data []byte
}

// Endpoint handles a request and returns its reply. On the client the
// innermost Endpoint sends the request over NATS; in a booth it runs the
// service's handler. An error should be an *Error; any other is Internal.
type Endpoint func(ctx context.Context, req *Message) (*Message, error)

// Middleware wraps an Endpoint with one concern (retry, breaker, deadline,
// recovery, authentication, tracing).
type Middleware func(Endpoint) Endpoint

// Chain composes middlewares so that the first one is the outermost.
func Chain(mw ...Middleware) Middleware {
	return func(next Endpoint) Endpoint {
		for i := len(mw) - 1; i >= 0; i-- {
			next = mw[i](next)
		}
		return next
	}
}
