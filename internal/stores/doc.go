// Package stores declares every JetStream stream and bucket of the mesh in
// one place (Declare) and provisions them (Provision): the bridge does at
// start, as the identity the matrix marks provisioner, and `meshctl
// provision` does against an external cluster. Provisioning is idempotent,
// waits for JetStream (a cluster's meta leader), retries with backoff and
// never lowers a store's replicas. Booths only bind the stores (KeyValue,
// ObjectStore, Stream), which says clearly when one is missing or has lost
// a guarantee its declaration makes: the NATS permissions let no identity
// but the provisioner create or update a store, and none delete or purge
// one.
package stores
