// Package cli is what every command of the mesh shares at its command line:
// --version (the module version and VCS revision the binary was built
// from), every flag also settable from an HMS_* environment variable and an
// optional YAML file (--config), with the precedence flag > environment >
// file > default and unknown file keys refused by name, and --log-format
// (text or json) and --log-level.
package cli
