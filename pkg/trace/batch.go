package trace

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// BatchVersion is the version of the batch envelope, its "v" field.
const BatchVersion = 1

// batch is the envelope of one svc.trace message: {"v":1,"events":[...]}.
type batch struct {
	V      int     `json:"v"`
	Events []Event `json:"events"`
}

// DecodeBatch reads the body of one svc.trace message. Every event is
// validated; the error wraps ErrEvent and names the first problem.
func DecodeBatch(data []byte) ([]Event, error) {
	var b batch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "%w: %v", ErrEvent, err)
	}
	if b.V != BatchVersion {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "%w: batch version %d, want %d", ErrEvent, b.V, BatchVersion)
	}
	for i := range b.Events {
		if err := b.Events[i].Validate(); err != nil {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "event %d: %w", i, err)
		}
	}
	return b.Events, nil
}

// appendBatch encodes events as a batch envelope onto buf. It writes what
// encoding/json would for the same value, without reflection: the publisher
// encodes every event of the mesh.
func appendBatch(buf []byte, events []Event) []byte {
	buf = append(buf, `{"v":`...)
	buf = strconv.AppendInt(buf, BatchVersion, 10)
	buf = append(buf, `,"events":[`...)
	for i := range events {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendEvent(buf, &events[i])
	}
	return append(buf, "]}"...)
}

func appendEvent(buf []byte, e *Event) []byte {
	const digits = "0123456789abcdef"
	buf = append(buf, `{"trace_id":"`...)
	for _, x := range e.TraceID {
		buf = append(buf, digits[x>>4], digits[x&0xf])
	}
	buf = append(buf, `","span_id":"`...)
	for _, x := range e.SpanID {
		buf = append(buf, digits[x>>4], digits[x&0xf])
	}
	buf = append(buf, '"')
	if !e.ParentSpanID.IsZero() {
		buf = append(buf, `,"parent_span_id":"`...)
		for _, x := range e.ParentSpanID {
			buf = append(buf, digits[x>>4], digits[x&0xf])
		}
		buf = append(buf, '"')
	}
	buf = appendField(buf, "kind", string(e.Kind), false)
	buf = appendField(buf, "caller", e.Caller, true)
	buf = appendField(buf, "service", e.Service, false)
	buf = appendField(buf, "path", e.Path, false)
	buf = appendField(buf, "request_id", e.RequestID, true)
	buf = append(buf, `,"attempt":`...)
	buf = strconv.AppendInt(buf, int64(e.Attempt), 10)
	buf = append(buf, `,"start":"`...)
	buf = e.Start.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","stop":"`...)
	buf = e.Stop.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","duration_us":`...)
	buf = strconv.AppendInt(buf, e.DurationUS, 10)
	buf = append(buf, `,"code":`...)
	buf = strconv.AppendInt(buf, int64(e.Code), 10)
	buf = appendField(buf, "error", e.Error, true)
	buf = appendField(buf, "instance", e.Instance, true)
	return append(buf, '}')
}

// appendField writes ,"name":"value" (nothing when omitEmpty and value is "").
func appendField(buf []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return appendString(buf, value)
}

// appendString writes s as a JSON string. Plain printable ASCII, the usual
// case, is copied; anything else is escaped by encoding/json.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(buf, q...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}
