package ociimage

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
)

// binaryInfo is what Build reads from the binary itself.
type binaryInfo struct {
	arch     string // GOARCH, as the image platform names it
	version  string // the main module's version; "" for "(devel)"
	revision string // vcs.revision; "" when not stamped
}

// inspect checks that path is a Go binary for Linux that needs no dynamic
// loader and returns its architecture and build info.
func inspect(path string) (binaryInfo, error) {
	f, err := elf.Open(path)
	if err != nil {
		return binaryInfo{}, fmt.Errorf("%w: %s is not an ELF binary: %v", ErrSpec, path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return binaryInfo{}, fmt.Errorf("%w: %s is dynamically linked (it asks for a loader); build it with CGO_ENABLED=0", ErrSpec, path)
		}
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return binaryInfo{}, fmt.Errorf("%w: %s is not a Linux binary (OS ABI %v); build it with GOOS=linux", ErrSpec, path, f.OSABI)
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return binaryInfo{}, fmt.Errorf("%w: %s has no Go build info: %v", ErrSpec, path, err)
	}
	info := binaryInfo{}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		info.version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOARCH":
			info.arch = s.Value
		case "GOOS":
			if s.Value != "linux" {
				return binaryInfo{}, fmt.Errorf("%w: %s is built for GOOS=%s; build it with GOOS=linux", ErrSpec, path, s.Value)
			}
		case "CGO_ENABLED":
			if s.Value != "0" {
				return binaryInfo{}, fmt.Errorf("%w: %s is built with CGO_ENABLED=%s; build it with CGO_ENABLED=0", ErrSpec, path, s.Value)
			}
		case "vcs.revision":
			info.revision = s.Value
		}
	}
	if info.arch == "" {
		return binaryInfo{}, fmt.Errorf("%w: %s's build info names no GOARCH", ErrSpec, path)
	}
	return info, nil
}
