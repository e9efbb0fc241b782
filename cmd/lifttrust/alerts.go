package main

import (
	"context"
	"net/http"

	"golang.org/x/sync/errgroup"

	"lifttrust/alerter"
	"lifttrust/postgres"
)

// alerts is the trapped-passenger alert sender with its own MQTT
// connection, under LiftTrust's service identity (the same credentials as
// ingest: a service may publish on every firm's alerts topic).
type alerts struct {
	pub    *alerter.MQTT
	sender *alerter.Sender
}

// newAlerter builds the alert sender from the configuration.
// webhooks posts the firms' webhooks (nil: the sender's default client).
func (e *env) newAlerter(db *postgres.DB, mqttURL, username, password string, webhooks *http.Client) *alerts {
	log := e.log
	pub := alerter.NewMQTT(mqttURL, username, password, e.cfg.MQTTClientID+"-alerts", log)
	return &alerts{pub: pub, sender: alerter.New(alerter.Config{
		Store:       postgres.NewAlertStore(db),
		Publisher:   pub,
		HTTP:        webhooks,
		BaseURL:     e.cfg.PublicBaseURL,
		TopicPrefix: e.cfg.MQTTTopicPrefix,
		Log:         log,
		Wake: func(ctx context.Context, fn func()) error {
			return db.Listen(ctx, log, []string{postgres.ChanAlertDue}, func(_, _ string) { fn() }, fn)
		},
	})}
}

// Run holds the MQTT connection and sends until ctx ends.
func (a *alerts) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.pub.Run(ctx) })
	g.Go(func() error { return a.sender.Run(ctx) })
	return g.Wait()
}
