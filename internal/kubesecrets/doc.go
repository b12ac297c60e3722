// Package kubesecrets turns a credentials folder (`.mesh/`, written by
// `meshctl init`) into Kubernetes Secret manifests for the Helm chart in
// deployments/helm/hms-svc, one per identity and one for the NATS servers,
// each holding only what its pods need: an identity's own certificate, key
// and NKey seed, the CA certificate and every identity's public NKey; the
// NATS servers' certificates and the public NKeys as a config include.
// The CA's key never leaves the folder.
//
// Every Secret's keys are the folder's own file names, so a Secret mounted
// as a folder is a --mesh-dir its process can read.
package kubesecrets
