package runner

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// reconnectWait is the pause between reconnect attempts; they go on forever.
const reconnectWait = time.Second

// connect opens the NATS connection of one booth: named
// "booth-runner/<booth>", reconnecting forever, authenticated as the booth's
// identity.
func connect(cfg Config, booth string) (*nats.Conn, error) {
	log := cfg.Logger.With("booth", booth)
	opts := []nats.Option{
		nats.Name("booth-runner/" + booth),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS connection lost; reconnecting", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS connection back", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("NATS error", "subject", subject, "error", err)
		}),
	}
	id, err := cfg.Identity(booth)
	if err != nil {
		return nil, fmt.Errorf("credentials of %s: %w", booth, err)
	}
	nc, err := nats.Connect(cfg.NATSURL, append(opts, id...)...)
	if err != nil {
		return nil, fmt.Errorf("connecting %s to NATS at %s: %w", booth, cfg.NATSURL, err)
	}
	return nc, nil
}
