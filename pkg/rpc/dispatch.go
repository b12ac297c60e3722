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
	select {
	case b.work <- func() { b.serve(ep, path, r, &poolReply{nc: b.nc, to: r.Reply()}) }:
	case <-b.quit:
		b.refuseStopping(r)
	}
}

// serveInline handles one request of an Inline endpoint on the
// subscription's goroutine; once Stop gave up waiting, it refuses it as a
// worker-pool endpoint would.
func (b *Booth) serveInline(ep Endpoint, path string, r micro.Request) {
	select {
	case <-b.quit:
		b.refuseStopping(r)
	default:
		b.serve(ep, path, r, r)
	}
}

func (b *Booth) refuseStopping(r micro.Request) {
	_ = r.Error(CodeUnavailable.String(), b.name+" is stopping", nil)
}

// serve runs ep for one request and answers it through out.
func (b *Booth) serve(ep Endpoint, path string, r micro.Request, out replier) {
	hdr := nats.Header(r.Headers())
	if hdr == nil {
		hdr = nats.Header{}
	}
	// One allocation for the request and its CallInfo.
	in := &struct {
		req  Message
		info CallInfo
	}{
		req: Message{Service: b.name, Path: path, Subject: r.Subject(), Header: hdr, Data: r.Data()},
		info: CallInfo{
			Service: b.name, Path: path, RequestID: hdr.Get(HeaderRequestID),
			Caller: hdr.Get(HeaderCaller), Attempt: attemptNumber(hdr.Get(HeaderAttempt)), Header: hdr,
		},
	}
	req := &in.req
	ctx := withCallInfo(b.root, &in.info)
	res, err := ep(ctx, req)
	b.respond(out, req, res, err)
}

// attemptNumber reads HeaderAttempt: absent (the first attempt sends none)
// or unreadable is 1.
func attemptNumber(v string) int {
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// respond answers a request with the handler's reply or error.
func (b *Booth) respond(r replier, req *Message, res *Message, err error) {
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
			"request_id", req.Header.Get(HeaderRequestID), "trace_id", traceIDOf(req.Header), "error", err)
		return
	}
	code, msg := b.wireError(req, err)
	if code == CodeUnavailable && errors.Is(err, ErrStoreUnavailable) {
		opts = append(opts, micro.WithHeaders(micro.Headers{HeaderUnavailable: []string{UnavailableStore}}))
	}
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
			"request_id", req.Header.Get(HeaderRequestID), "trace_id", traceIDOf(req.Header), "error", err)
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
func (b *Booth) replyFailed(r replier, req *Message, rerr error) {
	b.opts.log.Warn("reply not sent", "service", b.name, "path", req.Path,
		"request_id", req.Header.Get(HeaderRequestID), "trace_id", traceIDOf(req.Header), "error", rerr)
	if errors.Is(rerr, nats.ErrConnectionClosed) {
		return
	}
	_ = r.Error(CodeInternal.String(), "reply of "+b.name+" "+req.Path+" could not be sent: "+rerr.Error(), nil)
}

// replier sends a request's answer; micro.Request is one.
type replier interface {
	Respond(data []byte, opts ...micro.RespondOpt) error
	Error(code, description string, data []byte, opts ...micro.RespondOpt) error
}

// poolReply answers a request a worker handles. It publishes on the
// connection instead of through micro.Request, which records the outcome in
// a field micro's subscription goroutine reads, unsynchronised, as soon as
// the hand-off returns: a data race. So micro's stats count no errors of a
// worker-pool endpoint (nor did they before: the read came first); its
// request counts are right.
type poolReply struct {
	nc *nats.Conn
	to string
}

// Respond sends data with the options' headers, as micro.Request does.
func (p *poolReply) Respond(data []byte, opts ...micro.RespondOpt) error {
	m := &nats.Msg{Subject: p.to, Data: data}
	for _, opt := range opts {
		opt(m)
	}
	return p.publish(m)
}

// Error sends a service error as micro.Request does: its code and
// description in micro's headers, data as the body.
func (p *poolReply) Error(code, description string, data []byte, opts ...micro.RespondOpt) error {
	m := &nats.Msg{Subject: p.to, Header: nats.Header{
		micro.ErrorHeader: []string{description}, micro.ErrorCodeHeader: []string{code},
	}}
	for _, opt := range opts {
		opt(m)
	}
	m.Data = data
	return p.publish(m)
}

func (p *poolReply) publish(m *nats.Msg) error {
	if p.to == "" {
		return nats.ErrMsgNoReply
	}
	return p.nc.PublishMsg(m)
}
