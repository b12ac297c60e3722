// Package wait holds the two small pieces every retry loop of the mesh
// needs: a jittered wait and a sleep that ends early when its context does.
// The rpc client's retries, the audit-log booth's appends and the benchmark
// driver share them so that they wait the same way.
package wait
