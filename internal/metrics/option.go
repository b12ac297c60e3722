package metrics

import "fmt"

// DefaultMaxRoutes is how many distinct service and path pairs the client
// metrics label before counting the rest under "_other".
const DefaultMaxRoutes = 1000

type options struct {
	maxRoutes int
}

// Option configures New; a bad value makes New return an error naming it.
type Option func(*options) error

// WithMaxRoutes sets how many distinct service and path pairs the client
// metrics label (default 1000); calls to others are counted under service
// and path "_other".
func WithMaxRoutes(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("metrics: max routes must be at least 1, got %d", n)
		}
		o.maxRoutes = n
		return nil
	}
}
