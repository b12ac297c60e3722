package ociimage

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults of a Spec.
const (
	// UID and GID are the unprivileged user the image runs as, the number
	// distroless images use for "nonroot".
	UID = 65532
	GID = 65532
	// UserName names UID in the image's /etc/passwd.
	UserName = "hms-svc"
	// DataDir is the image's working directory: empty, owned by UID, for
	// JetStream data or a mounted volume.
	DataDir = "/var/lib/hms-svc"
	// BinDir holds the binary, owned by root and not writable by UID.
	BinDir = "/usr/local/bin"
	// DefaultSource is the org.opencontainers.image.source label.
	DefaultSource = "https://github.com/hms-svc/hms-svc"
)

// Labels the image carries (OCI image annotations, as config labels).
const (
	LabelTitle    = "org.opencontainers.image.title"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
)

// ErrSpec is matched by the errors Validate returns.
var ErrSpec = errors.New("image spec")

// Spec says what to build.
type Spec struct {
	// Binary is the path of the static Go binary the image runs.
	Binary string
	// Name is the command's name: the file in BinDir, the entrypoint and
	// the title label (the binary's base name when empty).
	Name string
	// Version and Revision are the module version and VCS revision of the
	// binary (`git describe`, `git rev-parse HEAD`); when empty they are read
	// from the binary's build info, and Build fails if it has none.
	Version  string
	Revision string
	// Source is the repository's URL (DefaultSource).
	Source string
	// Ports are the TCP ports the command listens on, for ExposedPorts.
	Ports []int
	// Created stamps the image and its files; the zero time means the Unix
	// epoch, so the same binary gives the same image.
	Created time.Time
}

// nameRE is what a command name may be: it becomes a file name.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

func (s *Spec) setDefaults() {
	if s.Name == "" {
		s.Name = path.Base(s.Binary)
	}
	if s.Source == "" {
		s.Source = DefaultSource
	}
	if s.Created.IsZero() {
		s.Created = time.Unix(0, 0)
	}
	s.Created = s.Created.UTC()
}

// Validate reports, wrapping ErrSpec, the first field of s that cannot be
// built, once defaults apply.
func (s *Spec) Validate() error {
	s.setDefaults()
	switch {
	case s.Binary == "":
		return fmt.Errorf("%w: no binary given", ErrSpec)
	case !nameRE.MatchString(s.Name):
		return fmt.Errorf("%w: name %q must match %s", ErrSpec, s.Name, nameRE)
	case strings.ContainsAny(s.Version+s.Revision, " \t\r\n"):
		return fmt.Errorf("%w: version %q or revision %q holds white space", ErrSpec, s.Version, s.Revision)
	}
	for _, p := range s.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("%w: port %d is not in [1,65535]", ErrSpec, p)
		}
	}
	return nil
}

// exposedPorts returns the config's ExposedPorts ("8443/tcp"), nil for none.
func (s *Spec) exposedPorts() map[string]struct{} {
	if len(s.Ports) == 0 {
		return nil
	}
	out := make(map[string]struct{}, len(s.Ports))
	for _, p := range s.Ports {
		out[strconv.Itoa(p)+"/tcp"] = struct{}{}
	}
	return out
}
