package alerter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// MQTT is LiftTrust's own service connection for publishing alerts. It
// uses a clean session: what was delivered is tracked in PostgreSQL, and a
// publish the broker did not acknowledge is simply retried.
//
// It reconnects by itself rather than through paho's auto-reconnect,
// because paho resends an interrupted PUBLISH after an automatic
// reconnect and completes the caller's token, without error, the moment
// it does so, before any PUBACK (paho.mqtt.golang#563). An alert would
// then be recorded as delivered although the broker never had it if the
// connection dropped again or the process stopped. Without auto-reconnect
// a lost connection fails every publish in flight, and the alert is sent
// again from PostgreSQL.
type MQTT struct {
	brokerURL, username, password, clientID string
	log                                     *slog.Logger

	mu sync.Mutex
	c  mqtt.Client // the open connection; nil while there is none
}

// NewMQTT returns a publisher on brokerURL with a service identity's
// credentials (empty: none, or the URL's user info) and clientID, which
// must differ from ingest's.
func NewMQTT(brokerURL, username, password, clientID string, log *slog.Logger) *MQTT {
	shown := brokerURL // never log a password from the URL
	if u, err := url.Parse(brokerURL); err == nil {
		shown = u.Redacted()
	}
	return &MQTT{brokerURL: brokerURL, username: username, password: password, clientID: clientID,
		log: log.With("component", "alerter-mqtt", "broker", shown)}
}

// Run connects, and connects again whenever the connection is lost (after
// 1 s, doubling to at most 5 s while the broker refuses), until ctx ends.
func (m *MQTT) Run(ctx context.Context) error {
	wait := time.Second
	for ctx.Err() == nil {
		lost := make(chan error, 1)
		c := mqtt.NewClient(mqtt.NewClientOptions().
			AddBroker(m.brokerURL).
			SetClientID(m.clientID).
			SetUsername(m.username).
			SetPassword(m.password).
			SetCleanSession(true).
			SetAutoReconnect(false).
			SetConnectTimeout(10 * time.Second).
			SetKeepAlive(30 * time.Second).
			SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err }))
		t := c.Connect()
		select {
		case <-t.Done():
		case <-ctx.Done():
			c.Disconnect(0)
			return nil
		}
		if err := t.Error(); err != nil {
			m.log.Warn("MQTT connect failed; retrying", "err", err, "in", wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			wait = min(2*wait, 5*time.Second)
			continue
		}
		wait = time.Second
		m.log.Info("connected")
		m.set(c)
		select {
		case err := <-lost:
			m.set(nil)
			m.log.Warn("MQTT connection lost; reconnecting", "err", err)
		case <-ctx.Done():
			m.set(nil)
			c.Disconnect(250)
		}
	}
	return nil
}

func (m *MQTT) set(c mqtt.Client) {
	m.mu.Lock()
	m.c = c
	m.mu.Unlock()
}

// Publish sends payload on topic at QoS 1 and returns nil only once the
// broker has acknowledged it (PUBACK); a connection lost first is an
// error.
func (m *MQTT) Publish(ctx context.Context, topic string, payload []byte) error {
	m.mu.Lock()
	c := m.c
	m.mu.Unlock()
	if c == nil || !c.IsConnectionOpen() {
		return errors.New("MQTT not connected")
	}
	t := c.Publish(topic, 1, false, payload)
	select {
	case <-t.Done():
		if err := t.Error(); err != nil {
			return fmt.Errorf("publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish %s: no acknowledgement: %w", topic, ctx.Err())
	}
}
