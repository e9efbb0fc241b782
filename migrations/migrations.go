// Package migrations owns the database schema: numbered plain-SQL files
// (NNNN_name.sql), embedded in the binary and applied in order with
// jackc/tern, which speaks pgx v5 natively. A schema that is behind the
// binary is refused by serve (see Check).
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

// FS returns the embedded migration files.
func FS() fs.FS { return files }

// versionTable is where tern records the applied version.
const versionTable = "schema_version"

// Latest is the number of the newest migration in the binary.
func Latest() (int32, error) {
	names, err := migrate.FindMigrations(files)
	if err != nil {
		return 0, fmt.Errorf("find migrations: %w", err)
	}
	return int32(len(names)), nil
}

// Migrate brings the database up to the latest schema. Running it again is a
// no-op. It holds tern's advisory lock, so concurrent starts are safe.
// It reports the versions before and after.
func Migrate(ctx context.Context, conn *pgx.Conn) (from, to int32, err error) {
	m, err := migrator(ctx, conn)
	if err != nil {
		return 0, 0, err
	}
	if from, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate from version %d: %w", from, err)
	}
	to, err = m.GetCurrentVersion(ctx)
	return from, to, err
}

// ErrBehind is returned by Check when the database schema is older than the
// binary's migrations.
var ErrBehind = fmt.Errorf("database schema is behind: run `lifttrust migrate`")

// Check reports ErrBehind when the schema is older than this binary, and an
// error when it is newer (an older binary against a newer schema could
// misread it).
func Check(ctx context.Context, conn *pgx.Conn) (current, latest int32, err error) {
	m, err := migrator(ctx, conn)
	if err != nil {
		return 0, 0, err
	}
	if current, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	latest = int32(len(m.Migrations))
	switch {
	case current < latest:
		return current, latest, fmt.Errorf("schema version %d, binary needs %d: %w", current, latest, ErrBehind)
	case current > latest:
		return current, latest, fmt.Errorf("schema version %d is newer than this binary's %d: upgrade the binary", current, latest)
	}
	return current, latest, nil
}

func migrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return nil, fmt.Errorf("new migrator: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return m, nil
}
