package stores

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/writeonce"
)

// auditConfig is AUDIT's: append-only, synced file storage, request ids
// deduplicated for AuditDuplicateWindow, and no message delete or purge.
func auditConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        Audit,
		Description: "audit records for inspectors; append-only, hash-chained, no raw SSN",
		Subjects:    []string{AuditSubject},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    replicas,
		Duplicates:  AuditDuplicateWindow,
		DenyDelete:  true,
		DenyPurge:   true,
		// Every replica answers reads, so each node's copy can be read.
		AllowDirect: true,
	}
}

// ledgerConfig is PAYMENTS': write-once per request id, kept forever.
func ledgerConfig(replicas int) jetstream.StreamConfig {
	return writeonce.Bucket(Payments, "payment ledger: one charge per request id, written once", replicas, 0)
}

// licensesConfig is LICENSES' in the shape nats.go's object store binds to
// (chunk and meta subjects, rollups for the meta entries), with no message
// delete. An object store needs rollups, and a stream that denies purges
// refuses rollups, so purges are left to the permissions, which grant the
// purge API to no identity.
func licensesConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:         "OBJ_" + Licenses,
		Description:  "printed licenses (PDF), named by license id",
		Subjects:     []string{"$O." + Licenses + ".C.>", "$O." + Licenses + ".M.>"},
		Storage:      jetstream.FileStorage,
		Replicas:     replicas,
		Discard:      jetstream.DiscardNew,
		MaxBytes:     -1,
		AllowRollup:  true,
		AllowDirect:  true,
		DenyDelete:   true,
		MaxMsgs:      -1,
		MaxConsumers: -1,
	}
}
