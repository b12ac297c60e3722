package natsauth

import "fmt"

// DeploymentConfigs returns the options of the configs kept in
// deployments/nats, by file name: single.conf and cluster-1..3.conf. They
// read the public NKeys from ../../.mesh/nkeys.conf, so they hold no key and
// can be committed.
func DeploymentConfigs() map[string]ConfigOptions {
	const include = "../../.mesh/nkeys.conf"
	out := map[string]ConfigOptions{"single.conf": {KeysInclude: include}}
	for i := 1; i <= 3; i++ {
		out[fmt.Sprintf("cluster-%d.conf", i)] = ConfigOptions{KeysInclude: include, Cluster: &ClusterOptions{Node: i, Size: 3}}
	}
	return out
}
