package booths

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestClassifyAppend(t *testing.T) {
	api := func(code, errCode int) error {
		return fmt.Errorf("nats: %w", &jetstream.APIError{Code: code, ErrorCode: jetstream.ErrorCode(errCode)})
	}
	for _, tc := range []struct {
		name string
		err  error
		want appendFailure
	}{
		{"wrong last sequence", api(400, 10071), appendTailMoved},
		{"wrong last sequence, replicated", api(400, 10164), appendTailMoved},
		{"same id still being stored", api(409, 10158), appendUnknown},
		{"cluster unavailable", api(503, 10008), appendUnknown},
		{"publish timed out", context.DeadlineExceeded, appendUnknown},
		{"no stream leader yet", jetstream.ErrNoStreamResponse, appendUnknown},
		{"connection lost", nats.ErrDisconnected, appendUnknown},
		{"wrong stream", api(400, 10060), appendRefused},
		{"connection closed", nats.ErrConnectionClosed, appendRefused},
		{"unencodable", errors.Join(errUnencodable, errors.New("NaN")), appendRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifyAppend(tc.err); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestBackoffStaysInBounds(t *testing.T) {
	for n := 1; n <= 12; n++ {
		want := min(auditBackoffMin<<min(n-1, 10), auditBackoffMax)
		for range 50 {
			if got := backoff(n); got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, got, want/2, want)
			}
		}
	}
	if auditAttemptTimeout >= AuditRetryHorizon {
		t.Errorf("one attempt (%v) may use the whole horizon (%v)", auditAttemptTimeout, AuditRetryHorizon)
	}
}
