// Command meshctl is the operator's tool for the mesh's credentials and
// configuration:
//
//	meshctl init [--dir .mesh] [--matrix deployments/matrix.yaml] [--san NAME]... [--rotate]
//	meshctl nats-config [--dir .mesh] [--matrix ...] [--keys-include PATH]
//	                    [--cluster-size N --cluster-node I] [--write-deployments DIR]
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
