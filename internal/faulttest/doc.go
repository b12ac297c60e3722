// Package faulttest holds the fault tests that span packages: the AUDIT
// stream leader or a follower crashing during a burst of audit writes on a
// 3-node cluster, a payment instance SIGKILLed or drained under load (real
// booth-runner child processes), and NATS restarted under load, all on the
// secure hallway (TLS, NKeys, matrix permissions, signed calls; mesh_test.go
// says how). Each test prints its figures (failover time, calls, retries,
// double charges) with t.Logf; run with -v to see them. The package has no
// code of its own.
package faulttest
