package hardening_test

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/hms-svc/hms-svc/internal/bridge"
)

func itoa(n int) string { return strconv.Itoa(n) }

// isErrorEnvelope reports whether body is the bridge's JSON error with
// code and a message.
func isErrorEnvelope(body []byte, code int) bool {
	var e bridge.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(&e) == nil && e.Error.Code == code && e.Error.Message != ""
}
