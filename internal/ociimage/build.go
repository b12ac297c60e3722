package ociimage

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Build returns the image of spec: two layers on an empty base (the base
// folders and user, shared by every command's image, then the binary) and a
// config that runs the binary as UID:GID in DataDir, with the OCI labels.
func Build(spec Spec) (v1.Image, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	info, err := inspect(spec.Binary)
	if err != nil {
		return nil, err
	}
	if spec.Version == "" {
		spec.Version = info.version
	}
	if spec.Revision == "" {
		spec.Revision = info.revision
	}
	if spec.Version == "" || spec.Revision == "" {
		return nil, fmt.Errorf("%w: %s: give the version and revision (git describe, git rev-parse HEAD); its build info has version %q, revision %q",
			ErrSpec, spec.Binary, info.version, info.revision)
	}
	base, err := layer(baseEntries(), spec.Created)
	if err != nil {
		return nil, err
	}
	bin, err := binaryEntry(spec.Binary, spec.Name)
	if err != nil {
		return nil, err
	}
	app, err := layer([]entry{bin}, spec.Created)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, base, app)
	if err != nil {
		return nil, fmt.Errorf("image of %s: %w", spec.Name, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image of %s: %w", spec.Name, err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", info.arch
	cf.Created = v1.Time{Time: spec.Created}
	cf.Config = v1.Config{
		Entrypoint:   []string{bin.path},
		User:         fmt.Sprintf("%d:%d", UID, GID),
		WorkingDir:   DataDir,
		ExposedPorts: spec.exposedPorts(),
		Labels: map[string]string{
			LabelTitle:    spec.Name,
			LabelVersion:  spec.Version,
			LabelRevision: spec.Revision,
			LabelSource:   spec.Source,
			LabelCreated:  spec.Created.Format("2006-01-02T15:04:05Z"),
		},
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("image of %s: %w", spec.Name, err)
	}
	return img, nil
}

// WriteTarball writes img to path as a docker-style tarball (manifest.json
// with ref among its RepoTags), the format `docker load` and `podman load`
// read. ref is "repo:tag"; a ref without a tag is refused rather than
// loaded as "latest".
func WriteTarball(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("%w: tag %q: %v (want repo:tag)", ErrSpec, ref, err)
	}
	if !strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":") {
		return fmt.Errorf("%w: %q names no tag (want repo:tag)", ErrSpec, ref)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
