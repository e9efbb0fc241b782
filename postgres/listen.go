package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification channels shared across LiftTrust instances (see
// docs/architecture.md). Payloads are comma-separated identifiers.
const (
	ChanLiftChanged = "lift_changed" // registration codes whose public facts changed
	ChanFirmScored  = "firm_scored"  // USCCs with a new score
	ChanScoreNeeded = "score_needed" // USCC to rescore now (incident closed, appeal decided, ...)
)

// Listen holds one connection LISTENing on channels and calls fn for every
// notification until ctx is cancelled. It reconnects after a lost
// connection (with a bounded back-off) and calls onReconnect, when not nil,
// after every reconnect: notifications sent while it was away are lost, so
// the caller reloads what it caches.
func (db *DB) Listen(ctx context.Context, log *slog.Logger, channels []string, fn func(channel, payload string), onReconnect func()) error {
	backoff := 100 * time.Millisecond
	first := true
	for {
		err := db.listenOnce(ctx, channels, fn, func() {
			if !first && onReconnect != nil {
				onReconnect()
			}
			first = false
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("listen connection lost; reconnecting", "channels", channels, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (db *DB) listenOnce(ctx context.Context, channels []string, fn func(channel, payload string), connected func()) error {
	pc, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A LISTENing connection must not go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Channel, n.Payload)
	}
}

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
