package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the files Init writes in its folder. An identity's files are
// "<name>.pem", "<name>-key.pem", "<name>.nk" (NKey seed) and "<name>.pub"
// (public NKey).
const (
	CAName     = "ca"
	ServerName = "server"
	RouteName  = "route"
	// OperatorName is the stem of the operator's NKey ("operator.nk",
	// "operator.pub"), which signs the revocation list.
	OperatorName = "operator"
)

// Permissions of what Init writes: secrets are the owner's alone.
const (
	DirMode    fs.FileMode = 0o700
	SecretMode fs.FileMode = 0o600
	PublicMode fs.FileMode = 0o644
)

// CertFile is the PEM certificate of name in dir ("<dir>/<name>.pem").
func CertFile(dir, name string) string { return filepath.Join(dir, name+".pem") }

// KeyFile is the PEM private key of name in dir ("<dir>/<name>-key.pem").
func KeyFile(dir, name string) string { return filepath.Join(dir, name+"-key.pem") }

// SeedFile is the NKey seed of identity in dir ("<dir>/<identity>.nk").
func SeedFile(dir, identity string) string { return filepath.Join(dir, identity+".nk") }

// PubFile is the public NKey of identity in dir ("<dir>/<identity>.pub").
func PubFile(dir, identity string) string { return filepath.Join(dir, identity+".pub") }

// CAFile is the CA certificate in dir ("<dir>/ca.pem").
func CAFile(dir string) string { return CertFile(dir, CAName) }

// reservedNames are file stems Init uses for itself; no identity may take them.
var reservedNames = map[string]bool{CAName: true, ServerName: true, RouteName: true, OperatorName: true, NextCAName: true}

// WriteFile writes data to path with mode, atomically: a reader sees the old
// file or the new one, never half of it.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Rename keeps the temp file's mode; chmod again in case umask or an
	// earlier file interfered.
	return os.Chmod(path, mode)
}

// exists reports whether path exists; any error other than "not found" is
// returned.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("pki: %w", err)
}
