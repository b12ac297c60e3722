// Package writeonce describes a JetStream key-value bucket whose every key
// is written once: a second message on a key (a new value, a delete or
// purge marker, a rollup) is refused by the server, and the stream allows
// neither message deletes nor purges, so an entry once stored stays until
// its bucket's TTL, if any, ends it. The payment ledger and the dedup store
// are such buckets; Bucket builds their stream config and Check tells
// whether a live stream still has it.
package writeonce
