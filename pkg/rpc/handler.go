package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// decodeBody decodes exactly one JSON value from data into v. It uses
// json.Unmarshal, which checks the whole input before decoding (so trailing
// data is refused too) without a Decoder's buffer copy.
func decodeBody(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty body: a JSON value is required")
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se) && se.Offset > 0 && se.Offset <= int64(len(data)) && json.Valid(data[:se.Offset-1]):
		// A whole value, then something that starts another.
		return errors.New("malformed JSON: data after the JSON value")
	case errors.As(err, &se) && se.Offset == int64(len(data)) && strings.HasSuffix(se.Error(), "end of JSON input"):
		return errors.New("malformed JSON: truncated body")
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("expected JSON for %s, got JSON %s", te.Type, te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	return fmt.Errorf("malformed JSON: %v", err)
}
