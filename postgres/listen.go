package postgres

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// Notification channels shared across LiftTrust instances (see
// docs/architecture.md). Payloads are comma-separated identifiers.
const (
	ChanLiftChanged = "lift_changed" // registration codes whose public facts changed
	ChanFirmScored  = "firm_scored"  // USCCs with a new score
	ChanScoreNeeded = "score_needed" // USCC to rescore now (incident closed, appeal decided, ...)
)

// Listen calls fn for every notification on channels until ctx is
// cancelled, and onReconnect (when not nil) whenever notifications may
// have been lost (after a reconnect, or when fn fell behind), so the
// caller reloads what it caches. It returns once ctx is cancelled.
//
// In a process that shares a hub (UseHub, as serve does), every Listen is
// a subscriber of that hub's one connection. Otherwise (one-off commands,
// tests) Listen runs a hub of its own for the duration of the call.
func (db *DB) Listen(ctx context.Context, log *slog.Logger, channels []string, fn func(channel, payload string), onReconnect func()) error {
	return db.ListenReady(ctx, log, channels, fn, onReconnect, nil)
}

// ListenReady is Listen that calls ready once the LISTEN is in force
// (Hub.ListenReady).
func (db *DB) ListenReady(ctx context.Context, log *slog.Logger, channels []string, fn func(channel, payload string), onReconnect, ready func()) error {
	if h := db.hub.Load(); h != nil {
		return h.ListenReady(ctx, channels, fn, onReconnect, ready)
	}
	h := NewHub(db, log)
	g, gctx := errgroup.WithContext(ctx)
	hctx, stop := context.WithCancel(gctx)
	g.Go(func() error { return h.Run(hctx) })
	g.Go(func() error {
		defer stop()
		return h.ListenReady(gctx, channels, fn, onReconnect, ready)
	})
	return g.Wait()
}

// UseHub makes every later Listen on db a subscriber of h (one LISTEN
// connection per process); the caller runs h.
func (db *DB) UseHub(h *Hub) { db.hub.Store(h) }

// Notify sends payloads on channel, splitting a long list of identifiers
// into notifications under PostgreSQL's 8000-byte payload limit. Run it in
// the transaction that made the change, so listeners hear of it only once
// it is committed.
func Notify(ctx context.Context, tx pgx.Tx, channel string, ids []string) error {
	const max = 7000
	start, size := 0, 0
	for i, id := range ids {
		if size+len(id)+1 > max && i > start {
			if err := notify(ctx, tx, channel, ids[start:i]); err != nil {
				return err
			}
			start, size = i, 0
		}
		size += len(id) + 1
	}
	if start < len(ids) {
		return notify(ctx, tx, channel, ids[start:])
	}
	return nil
}

func notify(ctx context.Context, tx pgx.Tx, channel string, ids []string) error {
	payload := ""
	for i, id := range ids {
		if i > 0 {
			payload += ","
		}
		payload += id
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}
