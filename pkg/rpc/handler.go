package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Handler is what a booth author writes: a typed function from request to
// reply. Decoding, encoding and error headers are the framework's job.
type Handler[Req, Res any] func(ctx context.Context, req *Req) (*Res, error)

// Handle serves path on b with a typed handler. The request body must be one
// JSON value that decodes into Req; anything else is answered with
// CodeBadRequest naming the problem, and the handler does not run. opts
// configure the endpoint (NotIdempotent).
func Handle[Req, Res any](b *Booth, path string, h Handler[Req, Res], opts ...EndpointOption) error {
	return b.HandleRaw(path, func(ctx context.Context, m *Message) (*Message, error) {
		req := new(Req)
		if err := decodeBody(m.Data, req); err != nil {
			return nil, Errorf(CodeBadRequest, "%s %s: request body: %v", m.Service, m.Path, err)
		}
		res, err := h(ctx, req)
		if err != nil {
			return nil, err
		}
		if res == nil {
			return &Message{Data: []byte("{}")}, nil
		}
		data, err := json.Marshal(res)
		if err != nil {
			return nil, Errorf(CodeInternal, "%s %s: encoding reply: %w", m.Service, m.Path, err)
		}
		return &Message{Data: data}, nil
	}, opts...)
}

// decodeBody decodes exactly one JSON value from data into v.
func decodeBody(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty body: a JSON value is required")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te) && te.Field == "":
			return fmt.Errorf("expected JSON for %s, got JSON %s", te.Type, te.Value)
		case errors.As(err, &te):
			return fmt.Errorf("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("malformed JSON: truncated body")
		}
		return fmt.Errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed JSON: data after the JSON value")
	}
	return nil
}
