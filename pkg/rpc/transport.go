package rpc

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// transport is the innermost client Endpoint: one NATS request-reply.
func transport(nc *nats.Conn) Endpoint {
	return func(ctx context.Context, req *Message) (*Message, error) {
		msg := &nats.Msg{Subject: req.Subject, Header: req.Header, Data: req.Data}
		reply, err := request(ctx, nc, msg)
		if err != nil {
			if !nc.IsConnected() {
				// The hop to NATS failed, not the booth: say so, so that the
				// breaker does not blame the booth for an outage.
				return nil, &Error{code: CodeUnavailable, msg: req.Service + " " + req.Path + ": connection to NATS lost (" + nc.Status().String() + ")", cause: errors.Join(ErrNotConnected, err)}
			}
			return nil, transportError(ctx, req, err)
		}
		res := &Message{Service: req.Service, Path: req.Path, Subject: req.Subject, Header: reply.Header, Data: reply.Data}
		if code := reply.Header.Get(HeaderErrorCode); code != "" {
			e := &Error{code: parseCode(code), msg: reply.Header.Get(HeaderError)}
			if reply.Header.Get(HeaderUnavailable) == UnavailableStore {
				e.cause = ErrStoreUnavailable
			}
			return res, e
		}
		return res, nil
	}
}

func transportError(ctx context.Context, req *Message, err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return &Error{code: CodeUnavailable, msg: "no running instance of " + req.Service, cause: errors.Join(ErrNoInstance, err)}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return &Error{code: CodeDeadlineExceeded, msg: req.Service + " " + req.Path + ": no reply before the deadline", cause: err}
	case errors.Is(err, context.Canceled):
		return &Error{code: CodeCanceled, msg: req.Service + " " + req.Path + ": call canceled", cause: err}
	}
	return &Error{code: CodeUnavailable, msg: req.Service + " " + req.Path + ": " + err.Error(), cause: err}
}

// request sends msg and waits for its reply until ctx ends. When ctx is the
// attempt's deadline, not yet armed, over a parent that never ends, nothing
// but the deadline can end the wait: nats.go's timed request, which takes
// its timer from a pool, waits the same without arming one.
func request(ctx context.Context, nc *nats.Conn, msg *nats.Msg) (*nats.Msg, error) {
	if lazy, ok := ctx.(*lazyDeadline); ok && lazy.unarmed() && lazy.parent.Done() == nil {
		reply, err := nc.RequestMsg(msg, time.Until(lazy.deadline))
		if errors.Is(err, nats.ErrTimeout) {
			err = context.DeadlineExceeded // what the ctx would have said
		}
		return reply, err
	}
	return nc.RequestMsgWithContext(ctx, msg)
}
