// Package auditchain verifies the hash chain of the AUDIT stream: every
// record names the hash of the record before it (prev_hash) and carries the
// SHA-256 of its own canonical encoding (hash), so a record altered, removed
// or slipped in afterwards breaks the chain where it happened. Verify reads
// a stream from its first sequence and reports the records it read and
// every problem by sequence and kind (booths.ChainKind): a record audit-log
// did not write (foreign), one that does not match its hash (edited), a new
// chain started after the first record (restart), and records missing or a
// link that does not hold (gap). A record audit-log appended over a broken
// tail names the break and pins its bytes, and is sound. The checks are
// audit-log's own (booths.CheckStored, booths.CheckLink), which it applies
// to the tail it appends to; RunVerify prints the report for `meshctl audit
// verify`.
package auditchain
