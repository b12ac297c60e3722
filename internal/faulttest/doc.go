// Package faulttest holds the fault tests that span packages: the AUDIT
// stream leader or a follower crashing during a burst of audit writes on a
// 3-node cluster, a payment instance SIGKILLed or drained under load (real
// booth-runner child processes), and NATS restarted under load. Each test
// prints its figures (failover time, calls, retries, double charges) with
// t.Logf; run them with -v to see them. The package has no code of its own.
package faulttest
