package main

import (
	"errors"
	"flag"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// natsConn holds the connection flags of the commands that read JetStream
// (trace, audit) and the last error the server reported asynchronously (a
// permissions violation).
type natsConn struct {
	url, dir, identity string
	refused            atomic.Pointer[string]
}

// explain adds to err what the server refused, if anything: a request the
// identity may not make shows only as a timeout otherwise.
func (c *natsConn) explain(err error) error {
	if err == nil {
		return nil
	}
	if r := c.refused.Load(); r != nil {
		return fmt.Errorf("%w (the server refused %s: %s)", err, c.identity, *r)
	}
	return err
}

// flags adds --nats, --mesh-dir and --as (identity by default, which needs
// a grant on stream).
func (c *natsConn) flags(fs *flag.FlagSet, identity, stream string) {
	fs.StringVar(&c.url, "nats", "nats://127.0.0.1:4222", "NATS server URL")
	fs.StringVar(&c.dir, "mesh-dir", ".mesh", "credentials folder")
	fs.StringVar(&c.identity, "as", identity, "identity to connect as (it needs a "+stream+" grant)")
}

// connect opens a connection as the identity, with its TLS certificate and
// NKey, that reconnects for as long as it is used.
func (c *natsConn) connect() (*nats.Conn, jetstream.JetStream, error) {
	opts, err := mesh.Credentials{Dir: c.dir}.NATSOptions(c.identity)
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts, nats.Timeout(5*time.Second), nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				msg := err.Error()
				c.refused.Store(&msg)
			}
		}))
	nc, err := nats.Connect(c.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s as %s: %w", c.url, c.identity, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}
