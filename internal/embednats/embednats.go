// Package embednats runs a nats-server with JetStream inside the process:
// the one-command mesh of broker-bridge, and every test.
package embednats

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config says how to run the embedded server.
type Config struct {
	// Host and Port to listen on; Port -1 picks a free port. Host defaults
	// to 127.0.0.1.
	Host string
	Port int
	// StoreDir holds JetStream data; it survives a restart.
	StoreDir string
	// ServerName names the server (defaults to "hms-svc").
	ServerName string
	// RelaxedSync turns off fsync-on-every-write. By default JetStream
	// syncs every write to disk before acknowledging it (sync_interval:
	// always), so an acknowledged payment or audit record survives a crash;
	// the NATS default (a 2-minute interval) can lose acknowledged writes.
	RelaxedSync bool
	// Tune, when set, adjusts the server options before the server starts
	// (TLS, authorization, clustering).
	Tune func(*server.Options) error
}

// Start runs a server and waits until it accepts connections.
func Start(cfg Config) (*server.Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("embednats: StoreDir is required")
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.ServerName == "" {
		cfg.ServerName = "hms-svc"
	}
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		SyncAlways: !cfg.RelaxedSync,
	}
	if cfg.Tune != nil {
		if err := cfg.Tune(opts); err != nil {
			return nil, fmt.Errorf("embednats: %w", err)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embednats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("embednats: server not ready after 10s")
	}
	return s, nil
}
