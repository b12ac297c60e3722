package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// The states of a dedup entry.
const (
	dedupPending  = "pending"  // a claim: a handler is running the call
	dedupReleased = "released" // a claim: the run before it failed, run it again
	dedupDone     = "done"     // the call's answer is kept
)

// dedupEntry is what the dedup store keeps for a request id: the call's
// answer (done), or one of its claims (pending, released). Its value is
// the entry as one line of JSON, a newline, then the reply body as it is
// (no base64), so that `nats kv get` shows it and a reply of nearly the
// store's message size still fits.
type dedupEntry struct {
	State string `json:"state"`
	// SHA256 is the hex SHA-256 of the request body: a retry sends the same
	// bytes, and another body under the same id is refused.
	SHA256 string `json:"sha256"`
	// Caller is the caller the call was from; another may not reuse its id.
	Caller string `json:"caller,omitempty"`
	// Owner is the booth instance that ran (or runs) the handler.
	Owner string `json:"owner,omitempty"`
	// Lease is when a pending run's ctx ends: past it (and DedupLeaseGrace)
	// another instance may take the call over.
	Lease time.Time `json:"lease,omitzero"`
	// Code and Message are the answer's error, for a kept 4xx.
	Code    Code   `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Header is the answer's header.
	Header nats.Header `json:"header,omitempty"`

	data []byte // the answer's body
}

// encode renders e as a store value.
func (e *dedupEntry) encode() ([]byte, error) {
	meta, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(meta)+1+len(e.data))
	out = append(out, meta...)
	out = append(out, '\n')
	return append(out, e.data...), nil
}

// decodeDedupEntry reads a store value.
func decodeDedupEntry(v []byte) (*dedupEntry, error) {
	meta, data, found := bytes.Cut(v, []byte{'\n'})
	if !found {
		return nil, errors.New("no newline after the entry's JSON")
	}
	e := &dedupEntry{}
	if err := json.Unmarshal(meta, e); err != nil {
		return nil, err
	}
	if e.State != dedupPending && e.State != dedupReleased && e.State != dedupDone {
		return nil, errors.New("unknown state")
	}
	e.data = data
	return e, nil
}

// reply rebuilds the kept answer, marked as a replay.
func (e *dedupEntry) reply() (*Message, error) {
	h := cloneHeader(e.Header, 1)
	h.Set(HeaderReplayed, "1")
	res := &Message{Header: h, Data: e.data}
	if e.Code != CodeOK {
		return res, &Error{code: e.Code, msg: e.Message}
	}
	return res, nil
}
