package rpc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/sony/gobreaker/v2"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// Client calls booths. It is safe for concurrent use; make one per NATS
// connection and share it.
type Client struct {
	opts     clientOptions
	breakers *breakers
	call     Endpoint
}

// NewClient returns a Client that calls over nc.
func NewClient(nc *nats.Conn, opts ...Option) (*Client, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrBadOption)
	}
	o := defaultClientOptions()
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: option %d is nil", ErrBadOption, i)
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Client{opts: o}
	chain := append([]Middleware{}, o.callMW...)
	if !o.breakerOff {
		c.breakers = &breakers{settings: o.breaker}
		for _, s := range o.known {
			c.breakers.get(s)
		}
		chain = append(chain, c.breakers.middleware)
	}
	var budgets *retryBudgets
	if !o.budgetOff && o.retries > 0 {
		budgets = newRetryBudgets(o.budgetRatio, o.budgetFloor)
	}
	chain = append(chain, retry(o.retries, o.backoff, budgets), attemptDeadline(o.attemptTimeout))
	chain = append(chain, o.attemptMW...)
	c.call = Chain(chain...)(transport(nc))
	return c, nil
}

// Call sends req, encoded as JSON, to path on service and decodes the reply
// into res (which may be nil to discard it).
func (c *Client) Call(ctx context.Context, service, path string, req, res any) error {
	data, err := json.Marshal(req)
	if err != nil {
		return Errorf(CodeBadRequest, "encoding request for %s %s: %w", service, path, err)
	}
	out, err := c.CallRaw(ctx, service, path, data)
	if err != nil || res == nil {
		return err
	}
	if err := json.Unmarshal(out, res); err != nil {
		return Errorf(CodeInternal, "decoding reply of %s %s: %w", service, path, err)
	}
	return nil
}

// CallRaw sends a JSON body as it is and returns the reply body as it is.
func (c *Client) CallRaw(ctx context.Context, service, path string, data []byte) ([]byte, error) {
	res, err := c.Invoke(ctx, service, path, nil, data)
	if err != nil {
		return nil, err
	}
	return res.Data, nil
}

// Invoke is the general form of Call: it sends data with extra headers (may be
// nil) and returns the whole reply. header is not modified; a request id in
// it is used as the call's (otherwise WithRequestID's or a fresh UUID). Bad
// service or path names are refused with CodeBadRequest before anything is
// published. Every error is an *Error.
func (c *Client) Invoke(ctx context.Context, service, path string, header nats.Header, data []byte) (*Message, error) {
	subject, err := subjects.Request(service, path)
	if err != nil {
		return nil, &Error{code: CodeBadRequest, msg: err.Error(), cause: err}
	}
	// The header is the caller's: copy it, so that its reuse for another
	// call neither shares this call's request id nor races with it.
	header = cloneHeader(header, 5)
	header.Del(HeaderAttempt)
	if header.Get(HeaderRequestID) == "" {
		id := outgoingRequestID(ctx)
		if id == "" {
			id = newRequestID()
		}
		header.Set(HeaderRequestID, id)
	}
	if c.opts.caller != "" {
		header.Set(HeaderCaller, c.opts.caller)
	}
	return c.call(ctx, &Message{Service: service, Path: path, Subject: subject, Header: header, Data: data})
}

// BreakerState returns the state of service's circuit breaker: "closed",
// "open" or "half-open".
func (c *Client) BreakerState(service string) string {
	if c.breakers == nil {
		return gobreaker.StateClosed.String()
	}
	return c.breakers.state(service).String()
}

// BreakerStates returns the state of every circuit breaker the client
// holds, by service: those of WithKnownServices from the start, and every
// other service's from its first call. It is empty without a breaker.
func (c *Client) BreakerStates() map[string]string {
	out := map[string]string{}
	if c.breakers != nil {
		c.breakers.m.Range(func(k, v any) bool {
			out[k.(string)] = v.(*breaker).state().String()
			return true
		})
	}
	return out
}

// cloneHeader copies h with room for extra more keys.
func cloneHeader(h nats.Header, extra int) nats.Header {
	out := make(nats.Header, len(h)+extra)
	for k, v := range h {
		out[k] = append([]string(nil), v...)
	}
	return out
}
