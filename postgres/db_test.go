package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"lifttrust"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

// MapErr gives a driver error its kind and keeps it in the chain, so a log
// line shows the constraint and the caller can still inspect the code.
func TestMapErrKeepsTheDriverError(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	tests := []struct {
		name string
		sql  string
		kind error
		code string
	}{
		{"a unique violation is a conflict", `INSERT INTO districts (code, name_zh, name_en) SELECT code, name_zh, name_en FROM districts LIMIT 1`, lifttrust.ErrConflict, "23505"},
		{"a check violation is invalid input", `INSERT INTO users (username, password_hash, role) VALUES ('X Y', 'x', 'admin')`, lifttrust.ErrInvalid, "23514"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Pool.Exec(ctx, tt.sql)
			err = postgres.MapErr(err)
			var pgErr *pgconn.PgError
			if !errors.Is(err, tt.kind) || !errors.As(err, &pgErr) || pgErr.Code != tt.code {
				t.Fatalf("got %v (kind %v), want kind %v with SQLSTATE %s in the chain", err, lifttrust.KindOf(err).Key, tt.kind, tt.code)
			}
		})
	}
}
