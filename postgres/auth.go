package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"lifttrust"
	"lifttrust/auth"
)

// AuthStore resolves API tokens and browser sessions to users.
type AuthStore struct{ db *DB }

// NewAuthStore returns the store over db.
func NewAuthStore(db *DB) *AuthStore { return &AuthStore{db: db} }

// TokenUser finds the enabled user owning the unrevoked API token (only
// its SHA-256 is stored) and records that the token was used.
func (s *AuthStore) TokenUser(ctx context.Context, token string) (*auth.User, error) {
	if token == "" {
		return nil, lifttrust.ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(token))
	u := &auth.User{}
	var role string
	err := s.db.Pool.QueryRow(ctx, `
		UPDATE api_tokens t SET last_used_at = now()
		FROM users u
		WHERE t.token_hash = $1 AND NOT t.revoked AND u.id = t.user_id AND NOT u.disabled
		RETURNING u.id, u.username, u.role, COALESCE(u.firm_uscc, ''), COALESCE(u.agency_uscc, '')`, sum[:]).
		Scan(&u.ID, &u.Name, &role, &u.FirmUSCC, &u.Agency)
	if err != nil {
		if err = MapErr(err); errors.Is(err, lifttrust.ErrNotFound) {
			return nil, lifttrust.Errorf(lifttrust.ErrUnauthenticated, "API 令牌无效或已撤销 / the API token is unknown or revoked")
		}
		return nil, fmt.Errorf("look up API token: %w", err)
	}
	u.Role = auth.Role(role)
	return u, nil
}

// SessionUser finds the user of a browser session. Sign-in is not built
// yet, so no session exists and every cookie is unknown.
func (s *AuthStore) SessionUser(ctx context.Context, token string) (*auth.User, error) {
	return nil, lifttrust.ErrUnauthenticated
}
