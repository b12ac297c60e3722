package natsauth

import "fmt"

// Ports of the 3-node cluster example in deployments/nats: node i serves
// clients on ExampleClusterPort+i-1, routes on ExampleClusterRoutePort+i-1
// and monitoring on ExampleClusterMonitorPort+i-1, away from the ports of
// `make run` (4222) and of a NATS server's defaults, so the example runs
// beside them.
const (
	ExampleClusterPort        = 4301
	ExampleClusterRoutePort   = 6301
	ExampleClusterMonitorPort = 8301
)

// DeploymentConfigs returns the options of the configs kept in
// deployments/nats, by file name: single.conf and cluster-1..3.conf. They
// read the public NKeys from ../../.mesh/nkeys.conf, so they hold no key and
// can be committed.
func DeploymentConfigs() map[string]ConfigOptions {
	const include = "../../.mesh/nkeys.conf"
	out := map[string]ConfigOptions{"single.conf": {KeysInclude: include}}
	for i := 1; i <= 3; i++ {
		out[fmt.Sprintf("cluster-%d.conf", i)] = ConfigOptions{
			KeysInclude: include, Port: ExampleClusterPort, MonitorPort: ExampleClusterMonitorPort,
			Cluster: &ClusterOptions{Node: i, Size: 3, RoutePort: ExampleClusterRoutePort},
		}
	}
	return out
}
