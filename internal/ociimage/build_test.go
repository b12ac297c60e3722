package ociimage_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/hms-svc/hms-svc/internal/ociimage"
)

// staticBinary builds a tiny static Go program for Linux in dir and returns
// its path.
func staticBinary(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(src, "go.mod"), "module example.com/hello\n\ngo 1.26\n")
	write(t, filepath.Join(src, "main.go"), "package main\n\nfunc main() { println(\"hello\") }\n")
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The tarball loads back as the image it was built as: its repo:tag, an
// entrypoint that is the binary, the unprivileged user, the labels, and
// layers holding the binary, the user and the data folder, and no shell.
func TestBuildAndLoad(t *testing.T) {
	dir := t.TempDir()
	bin := staticBinary(t, dir)
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	img, err := ociimage.Build(ociimage.Spec{
		Binary: bin, Name: "broker-bridge", Version: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567",
		Ports: []int{8443, 8080}, Created: created,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "images", "broker-bridge.tar")
	const ref = "hms-svc/broker-bridge:1.2.3"
	if err := ociimage.WriteTarball(out, ref, img); err != nil {
		t.Fatal(err)
	}

	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("loading %s as %s: %v", out, ref, err)
	}
	cf, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if got, want := strings.Join(c.Entrypoint, " "), "/usr/local/bin/broker-bridge"; got != want {
		t.Errorf("entrypoint = %q, want %q", got, want)
	}
	if c.User != "65532:65532" {
		t.Errorf("user = %q, want 65532:65532", c.User)
	}
	if c.WorkingDir != ociimage.DataDir {
		t.Errorf("working dir = %q, want %q", c.WorkingDir, ociimage.DataDir)
	}
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform = %s/%s, want linux/<arch>", cf.OS, cf.Architecture)
	}
	for _, p := range []string{"8443/tcp", "8080/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("ExposedPorts %v lacks %s", c.ExposedPorts, p)
		}
	}
	for k, want := range map[string]string{
		ociimage.LabelVersion: "v1.2.3", ociimage.LabelRevision: "0123456789abcdef0123456789abcdef01234567",
		ociimage.LabelTitle: "broker-bridge", ociimage.LabelSource: ociimage.DefaultSource,
		ociimage.LabelCreated: "2026-03-01T12:00:00Z",
	} {
		if got := c.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	files := layerFiles(t, loaded)
	wantBin, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := files["usr/local/bin/broker-bridge"]
	switch {
	case !ok:
		t.Fatalf("no usr/local/bin/broker-bridge among the layers' files: %v", keys(files))
	case b.hdr.Mode&0o111 != 0o111 || b.hdr.Uid != 0:
		t.Errorf("binary mode %o uid %d, want executable by all and owned by root", b.hdr.Mode, b.hdr.Uid)
	case !bytes.Equal(b.data, wantBin):
		t.Errorf("binary in the image differs from %s", bin)
	}
	if d := files["var/lib/hms-svc/"]; d == nil || d.hdr.Uid != ociimage.UID || d.hdr.Typeflag != tar.TypeDir {
		t.Errorf("data folder var/lib/hms-svc/ missing or not owned by %d: %+v", ociimage.UID, d)
	}
	if p := files["etc/passwd"]; p == nil || !strings.Contains(string(p.data), ":65532:65532:") {
		t.Errorf("/etc/passwd does not name user 65532")
	}
	for path := range files {
		if base := filepath.Base(strings.TrimSuffix(path, "/")); base == "sh" || base == "bash" || base == "busybox" {
			t.Errorf("the image holds a shell: %s", path)
		}
	}
	if len(files) > 12 {
		t.Errorf("the image holds %d files and folders, more than a binary needs: %v", len(files), keys(files))
	}
}

type file struct {
	hdr  *tar.Header
	data []byte
}

// layerFiles reads every layer of img, in order, into one map by path.
func layerFiles(t *testing.T, img v1.Image) map[string]*file {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 {
		t.Errorf("%d layers, want 2 (base, binary)", len(layers))
	}
	files := map[string]*file{}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("layer %d: %v", i, err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("layer %d, %s: %v", i, h.Name, err)
			}
			files[h.Name] = &file{hdr: h, data: data}
		}
		rc.Close()
	}
	return files
}

func keys(m map[string]*file) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Build refuses what would not run on the empty base, naming why.
func TestBuildRefuses(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	write(t, script, "#!/bin/sh\necho hi\n")
	static := staticBinary(t, dir)
	dynamic, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		spec    ociimage.Spec
		wantErr string
	}{
		{"no binary", ociimage.Spec{}, "no binary"},
		{"not ELF", ociimage.Spec{Binary: script, Version: "v1", Revision: "abc"}, "not an ELF binary"},
		{"dynamic", ociimage.Spec{Binary: dynamic, Version: "v1", Revision: "abc"}, "dynamically linked"},
		{"bad name", ociimage.Spec{Binary: static, Name: "Bad/Name", Version: "v1", Revision: "abc"}, "name \"Bad/Name\""},
		{"bad port", ociimage.Spec{Binary: static, Version: "v1", Revision: "abc", Ports: []int{70000}}, "port 70000"},
		{"no revision", ociimage.Spec{Binary: static, Version: "v1"}, "give the version and revision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ociimage.Build(tt.spec)
			if !errors.Is(err, ociimage.ErrSpec) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Build error = %v, want ErrSpec containing %q", err, tt.wantErr)
			}
		})
	}
	img, err := ociimage.Build(ociimage.Spec{Binary: static, Version: "v1", Revision: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ociimage.WriteTarball(filepath.Join(dir, "x.tar"), "hms-svc/hello", img); !errors.Is(err, ociimage.ErrSpec) {
		t.Errorf("WriteTarball without a tag: %v, want ErrSpec", err)
	}
}
