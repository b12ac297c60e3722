// Command meshimage builds the container image of one of the mesh's commands
// without a container daemon, as a tarball for `docker load` or
// `podman load` (see internal/ociimage):
//
//	meshimage --binary bin/linux/broker-bridge --tag hms-svc/broker-bridge:0.1.0 \
//	          --out bin/images/broker-bridge.tar --version v0.1.0 --revision $(git rev-parse HEAD) \
//	          [--port 8443]... [--name broker-bridge] [--source URL]
//
// The image's files are stamped with $SOURCE_DATE_EPOCH (the Unix epoch
// when unset), so the same binary gives the same image. `make image` builds
// all three.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hms-svc/hms-svc/internal/ociimage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// portsFlag collects a repeatable --port.
type portsFlag []int

func (p *portsFlag) String() string { return fmt.Sprint(*p) }
func (p *portsFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("port %q is not a number", v)
	}
	*p = append(*p, n)
	return nil
}

// run is main with its exit status: 0 when the tarball is written, 1 when
// building fails, 2 for bad flags.
func run(args []string, stdout, stderr io.Writer) int {
	var spec ociimage.Spec
	var ports portsFlag
	fs := flag.NewFlagSet("meshimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&spec.Binary, "binary", "", "static Linux binary to put in the image (CGO_ENABLED=0 GOOS=linux)")
	fs.StringVar(&spec.Name, "name", "", "command name: the file in "+ociimage.BinDir+" and the title label (default: the binary's base name)")
	fs.StringVar(&spec.Version, "version", "", "org.opencontainers.image.version (default: the binary's module version)")
	fs.StringVar(&spec.Revision, "revision", "", "org.opencontainers.image.revision (default: the binary's vcs.revision)")
	fs.StringVar(&spec.Source, "source", ociimage.DefaultSource, "org.opencontainers.image.source")
	fs.Var(&ports, "port", "TCP port the command listens on, for ExposedPorts (repeatable)")
	tag := fs.String("tag", "", "repo:tag the tarball loads as, e.g. hms-svc/broker-bridge:0.1.0")
	out := fs.String("out", "", "tarball to write")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *tag == "" || *out == "" {
		fmt.Fprintf(stderr, "meshimage: need --binary, --tag and --out, and no arguments (got %q)\n", fs.Args())
		return 2
	}
	spec.Ports = ports
	created, err := sourceDate(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		fmt.Fprintln(stderr, "meshimage:", err)
		return 2
	}
	spec.Created = created
	img, err := ociimage.Build(spec)
	if err == nil {
		err = ociimage.WriteTarball(*out, *tag, img)
	}
	if err != nil {
		fmt.Fprintln(stderr, "meshimage:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%s); load it with: docker load -i %s\n", *out, *tag, *out)
	return 0
}

// sourceDate parses $SOURCE_DATE_EPOCH (Unix seconds); empty is the zero
// time, which Build takes as the epoch.
func sourceDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a Unix time in seconds", v)
	}
	return time.Unix(n, 0), nil
}
