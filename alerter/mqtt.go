package alerter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// MQTT is LiftTrust's own service connection for publishing alerts. It
// uses a clean session: what was delivered is tracked in PostgreSQL, and a
// publish the broker did not acknowledge is simply retried.
type MQTT struct {
	c   mqtt.Client
	log *slog.Logger
}

// NewMQTT returns a publisher on brokerURL (credentials, if any, in the
// URL's user info) with clientID, which must differ from ingest's.
func NewMQTT(brokerURL, username, password, clientID string, log *slog.Logger) *MQTT {
	m := &MQTT{log: log.With("component", "alerter-mqtt")}
	opts := mqtt.NewClientOptions().
		AddBroker(brokerURL).
		SetUsername(username).
		SetPassword(password).
		SetClientID(clientID).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(5 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetOnConnectHandler(func(mqtt.Client) { m.log.Info("connected", "broker", brokerURL) }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			m.log.Warn("MQTT connection lost; reconnecting", "err", err)
		})
	m.c = mqtt.NewClient(opts)
	return m
}

// Run connects (retrying) and holds the connection until ctx ends.
func (m *MQTT) Run(ctx context.Context) error {
	m.c.Connect() // with ConnectRetry the token completes only once connected
	<-ctx.Done()
	m.c.Disconnect(250)
	return nil
}

// Publish sends payload on topic at QoS 1 and waits for the broker's
// acknowledgement.
func (m *MQTT) Publish(ctx context.Context, topic string, payload []byte) error {
	if !m.c.IsConnectionOpen() {
		return errors.New("MQTT not connected")
	}
	t := m.c.Publish(topic, 1, false, payload)
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
