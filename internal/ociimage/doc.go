// Package ociimage builds the container images of the mesh's commands
// without a container daemon: a static Go binary on an empty base that holds
// nothing else but the user it runs as (65532, "hms-svc") and an empty data
// folder it owns. There is no shell, no package manager and no libc.
//
// Build assembles the image with go-containerregistry and WriteTarball
// writes it as a docker-style tarball with its repo:tag, which
// `docker load` and `podman load` read. The binary must be statically
// linked (CGO_ENABLED=0): Build refuses one that asks for a dynamic loader.
package ociimage
