package booths

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// PaymentsBucket is the JetStream KV bucket of payment's ledger, keyed by
// request id and written once per key: a charge once recorded can be
// neither replaced nor erased.
const PaymentsBucket = stores.Payments

// ChargeRequest is payment's /charge request.
type ChargeRequest struct {
	// Amount is positive, with at most 2 decimals.
	Amount float64 `json:"amount"`
	// Currency is a 3-letter upper-case code ("USD").
	Currency string `json:"currency"`
}

// ChargeReply is payment's /charge reply. A retry of the same call (same
// request id, same body) gets the first reply again, with the same Txn.
type ChargeReply struct {
	Txn       string  `json:"txn"`
	Amount    float64 `json:"amount"`
	Currency  string  `json:"currency"`
	ChargedAt string  `json:"charged_at"`
}

// LedgerEntry is the value kept in PaymentsBucket under a request id.
type LedgerEntry struct {
	RequestID string `json:"request_id"`
	// BodySHA256 is the hex SHA-256 of the charge's canonical JSON
	// (amount and currency), to tell a retry from a reused request id.
	BodySHA256 string      `json:"body_sha256"`
	Caller     string      `json:"caller,omitempty"`
	Reply      ChargeReply `json:"reply"`
}

// startPayment binds the ledger and the dedup store and serves /charge.
func startPayment(ctx context.Context, nc *nats.Conn, cfg Config) (*rpc.Booth, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	kv, err := stores.KeyValue(ctx, js, PaymentsBucket, cfg.expect())
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	// A charge is not idempotent: the booth framework keeps its answer per
	// request id in SVC_DEDUP, so a retry on any instance replays it and a
	// duplicate in flight waits; the ledger's atomic create below stays as
	// the second guard (a lease takeover can never charge twice).
	dedup, err := stores.KeyValue(ctx, js, rpc.DedupBucket, cfg.expect())
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	return newBooth(nc, cfg, "payment", "Charges a fee once per request id", "/charge",
		charge(kv, cfg.logger()), extras{
			booth:    []rpc.BoothOption{rpc.WithDedupStore(dedup)},
			endpoint: []rpc.EndpointOption{rpc.NotIdempotent()},
		})
}

// charge records the charge under the request id with an atomic create, so
// that one request id charges once even when retries reach several
// instances at the same time; whoever loses the race replays the winner's
// reply.
func charge(kv jetstream.KeyValue, log *slog.Logger) rpc.Handler[ChargeRequest, ChargeReply] {
	return func(ctx context.Context, req *ChargeRequest) (*ChargeReply, error) {
		id, err := requireRequestID(ctx, "payment")
		if err != nil {
			return nil, err
		}
		if !validAmount(req.Amount) {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "amount must be greater than 0 with at most 2 decimals, got %v", req.Amount)
		}
		if !currencyPattern.MatchString(req.Currency) {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "currency must be a 3-letter upper-case code such as USD, got %s", clip(req.Currency))
		}
		sum := chargeDigest(req)
		entry := LedgerEntry{
			RequestID: id, BodySHA256: sum, Caller: caller(ctx),
			Reply: ChargeReply{
				Txn: uuid.NewString(), Amount: req.Amount, Currency: req.Currency,
				ChargedAt: time.Now().UTC().Format(time.RFC3339),
			},
		}
		data, err := json.Marshal(entry)
		if err != nil {
			return nil, rpc.Errorf(rpc.CodeInternal, "payment: encoding ledger entry: %w", err)
		}
		// A create whose outcome is unknown is repeated: if the first
		// stored the entry, the repeat finds it and replays it.
		err = retryStoreWrite(ctx, func(actx context.Context) error {
			_, err := kv.Create(actx, id, data)
			return err
		})
		switch {
		case err == nil:
			log.InfoContext(ctx, "charged", "request_id", id, "txn", entry.Reply.Txn, "amount", req.Amount, "currency", req.Currency)
			return &entry.Reply, nil
		case errors.Is(err, jetstream.ErrKeyExists):
			return replayCharge(ctx, kv, id, sum)
		}
		return nil, storeError(ctx, "payment ledger", err)
	}
}

// replayCharge answers a request id already in the ledger: the first reply
// if the body is the same, 409 if it is not.
func replayCharge(ctx context.Context, kv jetstream.KeyValue, id, sum string) (*ChargeReply, error) {
	kve, err := kv.Get(ctx, id)
	if err != nil {
		return nil, storeError(ctx, "payment ledger", err)
	}
	var first LedgerEntry
	if err := json.Unmarshal(kve.Value(), &first); err != nil {
		return nil, rpc.Errorf(rpc.CodeInternal, "payment: ledger entry %s is unreadable: %w", id, err)
	}
	if first.BodySHA256 != sum {
		return nil, rpc.Errorf(rpc.CodeConflict,
			"request id %s was already used for a different charge (txn %s); use a new request id for a new charge", id, first.Reply.Txn)
	}
	return &first.Reply, nil
}

// chargeDigest is the hex SHA-256 of the charge's canonical JSON: fields
// the booth ignores and the body's spacing do not make a different charge.
func chargeDigest(req *ChargeRequest) string {
	data, _ := json.Marshal(ChargeRequest{Amount: req.Amount, Currency: req.Currency})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// caller returns the calling identity of the call being served, or "".
func caller(ctx context.Context) string {
	if ci, ok := rpc.CallInfoFromContext(ctx); ok {
		return ci.Caller
	}
	return ""
}
