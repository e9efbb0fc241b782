package main

import (
	"context"
	"errors"
	"fmt"

	"lifttrust/fleet"
	"lifttrust/postgres"
)

// runWebhook registers or removes a firm's alert webhook:
// `lifttrust webhook --firm USCC --url https://…` prints the new signing
// secret once; `--delete` removes the webhook. Until the firm portal lets
// firms do this themselves, operators do it on the firm's request.
func runWebhook(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("webhook", e)
	firm := fs.String("firm", "", "the firm's USCC (required)")
	url := fs.String("url", "", "the HTTPS URL to POST alerts to (prints a new secret)")
	del := fs.Bool("delete", false, "remove the firm's webhook (alerts then go on MQTT only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fleet.ValidateUSCC(*firm); err != nil {
		return fmt.Errorf("webhook: --firm: %w", err)
	}
	if (*url == "") == !*del {
		return errors.New("webhook: give --url URL or --delete")
	}
	db, closeDB, err := e.openDB(ctx, 2)
	if err != nil {
		return err
	}
	defer closeDB()
	store := postgres.NewAlertStore(db)
	if *del {
		if err := store.DeleteWebhook(ctx, *firm); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "webhook of %s removed\n", *firm)
		return nil
	}
	secret, err := store.SetWebhook(ctx, *firm, *url)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "webhook of %s set to %s\nsigning secret (shown once; give it to the firm): %s\n", *firm, *url, secret)
	return nil
}
