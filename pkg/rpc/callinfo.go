package rpc

import (
	"context"

	"github.com/nats-io/nats.go"
)

// CallInfo describes the call a booth handler is serving.
type CallInfo struct {
	Service   string
	Path      string
	RequestID string
	// Caller is the calling identity: the authenticated one once a call
	// verifier (pkg/calltoken) has checked the call's token, and before that
	// only the caller's claim from HeaderCaller.
	Caller string
	// Actor is the identity that made the call on Caller's behalf (the
	// bridge for the gateway), or "" when Caller made it itself; set by the
	// call verifier.
	Actor string
	// Authenticated reports whether a call verifier has checked Caller
	// (and Actor) against the call's token.
	Authenticated bool
	// Attempt is the caller's attempt number (1 for the first delivery).
	Attempt int
	// Header is the request's header, read-only.
	Header nats.Header
}

type callInfoKey struct{}

// CallInfoFromContext returns the CallInfo of the call a booth handler is
// serving, and false outside a handler.
func CallInfoFromContext(ctx context.Context) (*CallInfo, bool) {
	ci, ok := ctx.Value(callInfoKey{}).(*CallInfo)
	return ci, ok
}

// RequestID returns the request id of the call a handler is serving, or "".
func RequestID(ctx context.Context) string {
	if ci, ok := CallInfoFromContext(ctx); ok {
		return ci.RequestID
	}
	return ""
}

func withCallInfo(ctx context.Context, ci *CallInfo) context.Context {
	return context.WithValue(ctx, callInfoKey{}, ci)
}

type outgoingIDKey struct{}

// WithRequestID returns a ctx whose next Call uses id as its Svc-Request-Id
// instead of a fresh UUID: a gateway passes its own idempotency key this way
// so that its retries are deduplicated too.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, outgoingIDKey{}, id)
}

func outgoingRequestID(ctx context.Context) string {
	id, _ := ctx.Value(outgoingIDKey{}).(string)
	return id
}
