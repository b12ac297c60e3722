package cli

import "strings"

// List is a flag that may be given several times; from the environment it
// takes a comma-separated list, from the config file a YAML list.
type List []string

// String returns the values, comma-separated.
func (l *List) String() string { return strings.Join(*l, ",") }

// Set adds one value.
func (l *List) Set(v string) error { *l = append(*l, v); return nil }
