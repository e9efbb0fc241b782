package main

import (
	"context"
	"errors"
	"fmt"

	"lifttrust/ingest"
	"lifttrust/postgres"
)

// newIngest builds MQTT ingest from the configuration.
func (e *env) newIngest(db *postgres.DB, mqttURL, username, password string) (*ingest.Ingest, error) {
	return ingest.New(postgres.NewIngestStore(db), ingest.Config{
		BrokerURL:    mqttURL,
		Username:     username,
		Password:     password,
		ClientID:     e.cfg.MQTTClientID,
		Prefix:       e.cfg.MQTTTopicPrefix,
		ShareGroup:   e.cfg.MQTTShareGroup,
		OfflineAfter: e.cfg.OfflineAfter,
		Retention:    e.cfg.Retention,

		DeadLetterRetention: e.cfg.DeadLetterRetention,
		DeadLetterLimit:     e.cfg.DeadLetterLimit,
		Log:                 e.log,
	})
}

// runIngest runs MQTT ingest alone, without HTTP: a deployment can scale
// ingest instances (sharing a subscription) apart from the web servers.
func runIngest(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("ingest", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if e.cfg.MQTTURL == "" {
		return errors.New("ingest alone needs MQTT_URL (the embedded broker runs only under serve)")
	}
	e.cfg.Print(e.stdout)
	db, closeDB, err := e.openDB(ctx, 4)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("refusing to ingest: %w", err)
	}
	in, err := e.newIngest(db, e.cfg.MQTTURL, e.cfg.MQTTUsername, e.cfg.MQTTPassword)
	if err != nil {
		return err
	}
	return in.Run(ctx)
}
