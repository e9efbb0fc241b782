// Package postgres is where LiftTrust's SQL lives. DB wraps a pgx pool with
// a transaction helper and one place that turns driver errors into the error
// kinds of package lifttrust. Each area of the system gets its own small
// store type in its own file (no god storage type), all sharing DB.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"lifttrust"
	"lifttrust/migrations"
)

// DB is the shared connection pool.
type DB struct {
	Pool *pgxpool.Pool
	hub  atomic.Pointer[Hub] // shared LISTEN connection, when the process has one (UseHub)
}

// Open connects a pool to url and checks that it answers.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "lifttrust"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping %s: %w", cfg.ConnConfig.Host, err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// Migrate applies pending migrations on one connection of the pool.
func (db *DB) Migrate(ctx context.Context) (from, to int32, err error) {
	err = db.withConn(ctx, func(c *pgx.Conn) error {
		from, to, err = migrations.Migrate(ctx, c)
		return err
	})
	return from, to, err
}

// CheckSchema returns migrations.ErrBehind (wrapped) when the schema is older
// than the binary.
func (db *DB) CheckSchema(ctx context.Context) error {
	return db.withConn(ctx, func(c *pgx.Conn) error {
		_, _, err := migrations.Check(ctx, c)
		return err
	})
}

func (db *DB) withConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	return fn(conn.Conn())
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise (and on panic).
func (db *DB) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", MapErr(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", MapErr(err))
	}
	return nil
}

// MapErr gives driver errors a lifttrust error kind, keeping the driver's
// error in the chain (a log line shows the constraint; errors.As still finds
// the *pgconn.PgError); everything else is returned as is (a 5xx upstream).
func MapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", lifttrust.ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", lifttrust.ErrConflict, err)
		case "23503", "23514", "23502", "22P02", "22001", "22003", "22007", "22008": // FK, check, not null, bad text repr, too long, out of range, datetime
			return fmt.Errorf("%w: %w", lifttrust.ErrInvalid, err)
		}
	}
	return err
}

// TryLock takes the session-level advisory lock called name, on a
// connection it keeps until unlock, when no other session holds it: so
// that of several instances only one runs a job (the daily full scoring
// run). A crashed holder's lock goes with its session.
func (db *DB) TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, MapErr(err))
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, name).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lock %s: %w", name, MapErr(err))
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		// A fresh context: the caller's may be done (shutdown), and the
		// lock must still be released before the connection returns to
		// the pool.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, name); err != nil {
			conn.Conn().Close(uctx) // closing the session releases the lock
		}
		conn.Release()
	}, true, nil
}

// each runs q and calls fn per row, closing the rows on every path.
func (db *DB) each(ctx context.Context, q string, args []any, fn func(pgx.Rows) error) error {
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return MapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return MapErr(rows.Err())
}
