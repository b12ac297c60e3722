// Package subjects maps (service, path) pairs to NATS subjects and back, per
// the HMS-SVC wire contract v1.
//
// A call to path "/calculate" on service "fee-calc" travels on the subject
// "svc.fee-calc.calculate"; trace events for a service travel on
// "svc.trace.<service>". Every function here is pure and validates its input:
// anything that could produce a wildcard, an empty token or a subject outside
// the "svc." namespace is refused with a sentinel error before anything is
// published.
package subjects
