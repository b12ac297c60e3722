// Package booths holds the demo license booths of Avery's same-day license:
// fee-calc (the fee for a license type, from a YAML fee table), payment (a
// charge recorded once per request id in the JetStream KV bucket PAYMENTS),
// license-printer (a PDF license kept in the JetStream object store LICENSES)
// and audit-log (an append-only, hash-chained record in the stream AUDIT
// that never holds a raw SSN; internal/auditchain verifies the chain with
// the checks audit-log applies to the tail it appends to, CheckStored and
// CheckLink, and audit-log counts what it finds in
// hms_svc_audit_chain_problems_total).
// Start runs one of them, by name, on its own NATS connection; each binds
// the JetStream stores it needs, which the provisioner made from their one
// declaration (internal/stores), and fails at start, naming the store, when
// one is missing. A booth never creates or reconfigures a store: its NATS
// permissions do not let it.
package booths
