package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Logger returns the logger --log-format and --log-level ask for, writing
// to w, its handler wrapped by wrap when wrap is not nil (to add the trace
// and request ids of the ctx a line is logged with).
func (c *Common) Logger(w io.Writer, wrap func(slog.Handler) slog.Handler) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(c.LogFormat) {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: use text or json", c.LogFormat)
	}
	if wrap != nil {
		h = wrap(h)
	}
	return slog.New(h), nil
}
