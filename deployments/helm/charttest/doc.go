// Package charttest renders the Helm chart in ../hms-svc with the Helm
// library, as `helm template` does, and checks every object it makes with
// the Kubernetes API types, decoding strictly (an unknown or misspelt field
// fails), for the default and the production values. It is a module of its
// own so that Helm and the Kubernetes libraries stay out of the mesh's
// go.mod; it needs no network and no cluster.
package charttest
