package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// ErrSource is matched by the errors Parse finds in the environment or the
// config file (the flag set reports those of the command line itself).
var ErrSource = errors.New("bad setting")

// Common are the flags every command has.
type Common struct {
	// ShowVersion is --version.
	ShowVersion bool
	// ConfigFile is --config (HMS_CONFIG): a YAML file of flag values.
	ConfigFile string
	// LogFormat is --log-format (text or json); LogLevel --log-level.
	LogFormat, LogLevel string
}

// Register adds the common flags to fs.
func (c *Common) Register(fs *flag.FlagSet) {
	fs.BoolVar(&c.ShowVersion, "version", false, "print the version and exit")
	fs.StringVar(&c.ConfigFile, "config", "", "YAML file of flag values (key: the flag's name); flags and HMS_* variables win over it (HMS_CONFIG)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log lines as text or json (HMS_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error (HMS_LOG_LEVEL)")
}

// meshNames are the flags whose variables are the ones pkg/mesh reads
// under names of its own (mesh.ConfigFromEnv).
var meshNames = map[string]string{"nats": mesh.EnvNATSURL, "instance-name": mesh.EnvInstance}

// EnvName returns the environment variable of a flag: aliases[name], the
// name pkg/mesh reads it under (--nats is HMS_NATS_URL, --instance-name
// HMS_INSTANCE), or HMS_ and the name in upper case with '-' as '_'
// (--mesh-dir is HMS_MESH_DIR).
func EnvName(name string, aliases map[string]string) string {
	if a, ok := aliases[name]; ok {
		return a
	}
	if a, ok := meshNames[name]; ok {
		return a
	}
	return "HMS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse parses args into fs (to which c.Register added the common flags),
// then gives every flag the command line left unset the value of its
// environment variable (EnvName), and then that of the --config file. A
// file key that names no flag, or a value a flag refuses, is an error
// naming it.
func Parse(fs *flag.FlagSet, args []string, c *Common, aliases map[string]string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "version" {
			return
		}
		env := EnvName(f.Name, aliases)
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return
		}
		values := []string{v}
		if _, list := f.Value.(*List); list {
			values = strings.Split(v, ",")
		}
		for _, v := range values {
			if err := fs.Set(f.Name, strings.TrimSpace(v)); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrSource, env, err))
			}
		}
		set[f.Name] = true
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.ConfigFile == "" {
		return nil
	}
	if err := applyFile(fs, c.ConfigFile, set); err != nil {
		return fmt.Errorf("%w: %w", ErrSource, err)
	}
	return nil
}

// applyFile sets, from the YAML file at path, every flag not set already.
func applyFile(fs *flag.FlagSet, path string, set map[string]bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("--config %s: %w", path, err)
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := fs.Lookup(k)
		if f == nil || k == "config" || k == "version" {
			return fmt.Errorf("--config %s: unknown key %q: keys are the command's flag names (see -h)", path, k)
		}
		if set[k] {
			continue
		}
		values, err := scalars(doc[k], f)
		if err != nil {
			return fmt.Errorf("--config %s: %s: %w", path, k, err)
		}
		for _, v := range values {
			if err := fs.Set(k, v); err != nil {
				return fmt.Errorf("--config %s: %s: %w", path, k, err)
			}
		}
	}
	return nil
}

// scalars returns a file value as the flag's string values: a list for a
// List flag, one scalar otherwise.
func scalars(v any, f *flag.Flag) ([]string, error) {
	if items, ok := v.([]any); ok {
		if _, list := f.Value.(*List); !list {
			return nil, errors.New("a list is given for a flag that takes one value")
		}
		out := make([]string, len(items))
		for i, it := range items {
			if _, nested := it.([]any); nested {
				return nil, errors.New("a list of lists")
			}
			out[i] = fmt.Sprint(it)
		}
		return out, nil
	}
	if _, ok := v.(map[string]any); ok {
		return nil, errors.New("a mapping is given where a value is expected")
	}
	if v == nil {
		return nil, nil
	}
	return []string{fmt.Sprint(v)}, nil
}
