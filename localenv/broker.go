package localenv

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is an embedded MQTT broker (mochi-mqtt) for a one-command local run
// and for tests. Production uses an external broker cluster. It always
// enforces the identities LiftTrust issued (BrokerAuth): there is no
// anonymous mode.
type Broker struct {
	Addr   string // host:port it listens on
	server *mqtt.Server
	auth   *BrokerAuth
}

// URL is the broker's address as an MQTT URL.
func (b *Broker) URL() string { return "tcp://" + b.Addr }

// NewBroker prepares a broker on addr enforcing auth; when addr is taken
// and fallback is true it takes a free port instead (the caller logs
// b.Addr). auth must have been loaded (BrokerAuth.Load); Run keeps it
// fresh.
func NewBroker(addr string, fallback bool, log *slog.Logger, auth *BrokerAuth) (*Broker, error) {
	if auth == nil {
		return nil, fmt.Errorf("embedded broker: no identities to enforce (anonymous brokers are not offered)")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if !fallback {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listen on a free port: %w", err)
		}
	}
	bound := l.Addr().String()
	l.Close() // mochi binds it again below; the window is a few microseconds

	caps := mqtt.NewDefaultServerCapabilities()
	// Queue generously for a subscriber that stops acknowledging while
	// PostgreSQL is down (see docs/mqtt.md, "The broker is part of the
	// durability chain").
	caps.MaximumInflight = 65535
	caps.MaximumClientWritesPending = 65536
	caps.MaximumPacketSize = 256 << 10
	s := mqtt.New(&mqtt.Options{InlineClient: true, Capabilities: caps, Logger: log})
	if err := s.AddHook(&authHook{a: auth}, nil); err != nil {
		return nil, err
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: bound})
	if err := s.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("broker listen %s: %w", bound, err)
	}
	return &Broker{Addr: bound, server: s, auth: auth}, nil
}

// Run serves until ctx is cancelled, then closes every client connection.
// It reloads changed identities every AuthRefresh meanwhile.
func (b *Broker) Run(ctx context.Context) error {
	if err := b.server.Serve(); err != nil {
		return fmt.Errorf("broker serve: %w", err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = b.auth.Run(ctx) }()
	<-ctx.Done()
	<-done
	return b.server.Close()
}
