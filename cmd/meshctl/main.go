// Command meshctl is the operator's tool for the mesh's credentials and
// configuration, its stores, its readiness, its traces and its audit chain:
//
//	meshctl init [--dir .mesh] [--matrix deployments/matrix.yaml] [--san NAME]... [--rotate]
//	meshctl rotate [--dir .mesh] [--matrix ...] [--wait 3s] [--overlap 2m] IDENTITY... | --all | --ca | --retire-old-ca
//	meshctl revoke [--dir .mesh] [--matrix ...] [--reason TEXT] IDENTITY | --undo IDENTITY | --list
//	meshctl nats-config [--dir .mesh] [--matrix ...] [--keys-include PATH] [--host H]
//	                    [--port 4222] [--route-port 6222] [--http-port P] [--server-name N] [--store-dir D]
//	                    [--cluster-size N | --cluster-host HOST...] [--cluster-node I | --routes URL,...]
//	                    [--write-deployments DIR]
//	meshctl nats-config --authorization-only [--matrix ...]
//	meshctl provision [--nats URL] [--mesh-dir .mesh] [--as provisioner] [--replicas N]
//	                  [--trace-replicas N] [--trace-max-age D] [--trace-max-bytes N] [--dedup-ttl D] [--timeout 2m]
//	meshctl k8s-secrets [--dir .mesh] [--matrix ...] [--prefix hms-svc] [--namespace NS]
//	                    [--identity NAME]... [--out DIR]
//	meshctl ready [--bridge https://127.0.0.1:8443] [--dir .mesh] [--identity gateway]
//	              [--timeout 30s] [--service NAME]...
//	meshctl trace tail [--since 5m] [--count N] | show ID   [--nats URL] [--mesh-dir .mesh] [--as inspector]
//	meshctl audit verify [--nats URL] [--mesh-dir .mesh] [--as inspector] [--timeout 1m]
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
