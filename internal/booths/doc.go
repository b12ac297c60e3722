// Package booths holds the demo license booths of Avery's same-day license:
// fee-calc (the fee for a license type, from a YAML fee table), payment (a
// charge recorded once per request id in the JetStream KV bucket PAYMENTS),
// license-printer (a PDF license kept in the JetStream object store LICENSES)
// and audit-log (an append-only, hash-chained record in the stream AUDIT
// that never holds a raw SSN; internal/auditchain verifies the chain with
// the checks audit-log applies to the tail it appends to, CheckStored and
// CheckLink, and audit-log counts what it finds in
// hms_svc_audit_chain_problems_total).
// Start runs one of them, by name, on its own NATS connection; each creates
// or updates the JetStream resources it needs with Config.Replicas copies
// (never fewer than they already have), so any number of instances may
// start at once.
package booths
