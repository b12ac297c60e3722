package trace

import "time"

// ReadOption configures Follow and Get.
type ReadOption func(*readOptions)

// GetOption is a ReadOption, the name Get's options had first.
type GetOption = ReadOption

type readOptions struct {
	from   time.Time
	screen *Screen
}

func readOptionsOf(opts []ReadOption) readOptions {
	var o readOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// From makes Get scan only messages stored from t on. Without it, Get
// starts from the time embedded in trace ids the mesh makes (less a margin)
// and falls back to the whole stream. Follow takes its start as an argument
// and ignores From.
func From(t time.Time) ReadOption { return func(o *readOptions) { o.from = t } }

// WithScreen counts and logs on s the events the reader withholds (see
// MayEmit). Without it they are withheld all the same, unseen.
func WithScreen(s *Screen) ReadOption { return func(o *readOptions) { o.screen = s } }
