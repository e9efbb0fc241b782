package postgres

import (
	"context"
	"fmt"

	"lifttrust/ingest"
)

var _ ingest.UploadStore = (*IngestStore)(nil)

// TokenUser finds the enabled user owning the unrevoked API token whose
// SHA-256 is hash, and records that the token was used.
func (s *IngestStore) TokenUser(ctx context.Context, hash []byte) (ingest.UploadUser, error) {
	var u ingest.UploadUser
	err := s.db.Pool.QueryRow(ctx, `
		UPDATE api_tokens t SET last_used_at = now()
		FROM users u
		WHERE t.token_hash = $1 AND NOT t.revoked AND u.id = t.user_id AND NOT u.disabled
		RETURNING u.id, u.role, COALESCE(u.firm_uscc, ''), COALESCE(u.agency_uscc, '')`, hash).
		Scan(&u.ID, &u.Role, &u.Firm, &u.Agency)
	if err != nil {
		return u, fmt.Errorf("look up API token: %w", MapErr(err))
	}
	return u, nil
}
