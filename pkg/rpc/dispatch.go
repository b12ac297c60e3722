package rpc

import (
	"context"
	"errors"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// dispatch hands one request to a worker; it blocks while all are busy,
// which holds further messages in the subscription's pending buffer.
func (b *Booth) dispatch(ep Endpoint, path string, r micro.Request) {
	f := func() {
		hdr := nats.Header(r.Headers())
		if hdr == nil {
			hdr = nats.Header{}
		}
		req := &Message{Service: b.name, Path: path, Subject: r.Subject(), Header: hdr, Data: r.Data()}
		attempt, err := strconv.Atoi(hdr.Get(HeaderAttempt))
		if err != nil || attempt < 1 {
			attempt = 1
		}
		ctx := withCallInfo(b.root, &CallInfo{
			Service: b.name, Path: path, RequestID: hdr.Get(HeaderRequestID),
			Caller: hdr.Get(HeaderCaller), Attempt: attempt, Header: hdr,
		})
		res, err := ep(ctx, req)
		b.respond(r, req, res, err)
	}
	select {
	case b.work <- f:
	case <-b.quit:
		_ = r.Error(CodeUnavailable.String(), b.name+" is stopping", nil)
	}
}

// respond answers a request with the handler's reply or error.
func (b *Booth) respond(r micro.Request, req *Message, res *Message, err error) {
	var opts []micro.RespondOpt
	var data []byte
	if res != nil {
		data = res.Data
		if len(res.Header) > 0 {
			opts = append(opts, micro.WithHeaders(micro.Headers(res.Header)))
		}
	}
	if err == nil {
		if rerr := r.Respond(data, opts...); rerr != nil {
			b.replyFailed(r, req, rerr)
		}
		return
	}
	if errors.Is(err, errNoReply) {
		b.opts.log.Debug("no reply: the caller's deadline passed", "service", b.name, "path", req.Path,
			"request_id", req.Header.Get(HeaderRequestID), "error", err)
		return
	}
	code, msg := b.wireError(req, err)
	if rerr := r.Error(code.String(), msg, data, opts...); rerr != nil {
		b.replyFailed(r, req, rerr)
	}
}

// wireError is the code and message a handler's error is answered with.
func (b *Booth) wireError(req *Message, err error) (Code, string) {
	code, msg := CodeOf(err), MessageOf(err)
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		msg = b.name + " " + req.Path + ": gave up: " + err.Error()
	default:
		// An uncoded error may hold anything: log it, answer generically.
		b.opts.log.Error("handler failed", "service", b.name, "path", req.Path,
			"request_id", req.Header.Get(HeaderRequestID), "error", err)
		msg = "internal error in " + b.name + " " + req.Path
	}
	switch {
	case code == CodeCanceled: // a booth was told to give up: for the caller, a timeout
		code = CodeDeadlineExceeded
	case code < 400 || code > 599:
		code = CodeInternal
	}
	if msg == "" {
		msg = "error " + code.String() + " in " + b.name + " " + req.Path
	}
	return code, msg
}

// replyFailed logs a reply NATS refused (too large, bad header) and answers
// with a bare 500 instead, so the caller does not wait for its timeout and
// run the handler again.
func (b *Booth) replyFailed(r micro.Request, req *Message, rerr error) {
	b.opts.log.Warn("reply not sent", "service", b.name, "path", req.Path,
		"request_id", req.Header.Get(HeaderRequestID), "error", rerr)
	if errors.Is(rerr, nats.ErrConnectionClosed) {
		return
	}
	_ = r.Error(CodeInternal.String(), "reply of "+b.name+" "+req.Path+" could not be sent: "+rerr.Error(), nil)
}
