package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// entry is one file or folder of a layer.
type entry struct {
	path     string // absolute, without a trailing slash
	mode     int64
	uid, gid int
	dir      bool
	data     []byte
}

// baseEntries is the whole base: the folders, the user in /etc/passwd and
// /etc/group, and the data folder it owns. No shell is among them, and the
// user's login shell names none either.
func baseEntries() []entry {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, GID, UserName, DataDir)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, GID)
	es := []entry{
		{path: "/etc", mode: 0o755, dir: true},
		{path: "/etc/passwd", mode: 0o644, data: []byte(passwd)},
		{path: "/etc/group", mode: 0o644, data: []byte(group)},
	}
	es = append(es, parents(BinDir)...)
	es = append(es, parents(parentOf(DataDir))...)
	return append(es, entry{path: DataDir, mode: 0o700, uid: UID, gid: GID, dir: true})
}

// parents returns the root-owned folders from the top down to dir.
func parents(dir string) []entry {
	var es []entry
	p := ""
	for _, part := range strings.Split(strings.Trim(dir, "/"), "/") {
		p += "/" + part
		es = append(es, entry{path: p, mode: 0o755, dir: true})
	}
	return es
}

func parentOf(p string) string { return p[:strings.LastIndex(p, "/")] }

// binaryEntry is the command, owned by root, executable by everyone.
func binaryEntry(path, name string) (entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return entry{}, fmt.Errorf("reading the binary: %w", err)
	}
	return entry{path: BinDir + "/" + name, mode: 0o755, data: data}, nil
}

// layer packs es, in order, as an uncompressed tar stamped with mtime and
// returns it as a gzip-compressed image layer. Folders a later entry needs
// come first, as tar readers expect.
func layer(es []entry, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{
			Name: strings.TrimPrefix(e.path, "/"), Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: mtime, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(e.data)),
		}
		if e.dir {
			h.Name += "/"
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.path, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}
