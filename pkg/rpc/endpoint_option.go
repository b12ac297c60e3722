package rpc

import "fmt"

// EndpointOption configures one endpoint of a booth (Handle, HandleRaw).
// An option that does not fit the booth makes Handle return an error naming
// it, and the path is not served.
type EndpointOption func(*endpointOptions) error

type endpointOptions struct {
	notIdempotent bool
	inline        bool
}

// NotIdempotent declares that running the endpoint's handler twice has two
// effects (a charge), so the booth gives it exactly-once effects per
// Svc-Request-Id: the first call with an id runs the handler and its answer
// is kept in the booth's dedup store (WithDedupStore); a retry with the same
// id and body, on any instance, gets that answer again without running the
// handler; the same id with another body is refused with CodeConflict; a
// call without a request id is refused with CodeBadRequest.
//
// Booth middlewares (WithBoothMiddleware: authentication, tracing) run
// outside the deduplication, so a call they refuse leaves no entry; the
// order around the handler is recovery, deadline, booth middlewares, then
// deduplication. A handler must honour its ctx: the deduplication lets a
// retry take a call over once the ctx of the run it waits for has ended
// (see DedupLeaseGrace).
func NotIdempotent() EndpointOption {
	return func(o *endpointOptions) error { o.notIdempotent = true; return nil }
}

// Inline runs the endpoint's handler on the goroutine that receives its
// requests instead of handing each to the booth's worker pool. The hand-off
// costs a goroutine wake-up per request, a large share of a handler that
// only computes; but an inline endpoint handles one request at a time per
// booth instance (the pool's concurrency does not apply), and a request
// waits for the one before it. Use it for handlers that neither block nor
// wait on I/O (fee-calc's table lookup); never for one that calls other
// services or a store. Stop drains an inline endpoint as any other.
func Inline() EndpointOption {
	return func(o *endpointOptions) error { o.inline = true; return nil }
}

// endpointOpts applies opts for the endpoint at path.
func endpointOpts(path string, opts []EndpointOption) (endpointOptions, error) {
	var o endpointOptions
	for i, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("%w: endpoint option %d of %s is nil", ErrBadOption, i, path)
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}
