// Package auditchain verifies the hash chain of the AUDIT stream: every
// record names the hash of the record before it (prev_hash) and carries the
// SHA-256 of its own canonical encoding (hash), so a record altered, removed
// or slipped in afterwards breaks the chain where it happened. Verify reads
// a stream from its first sequence and reports the records it read, every
// gap in the sequences and every record whose hash or link does not hold;
// RunVerify prints that report for `meshctl audit verify`.
package auditchain
