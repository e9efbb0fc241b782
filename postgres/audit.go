package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"lifttrust/auth"
)

// Execer is a pool or a transaction: Audit can run inside the transaction
// of the action it records, so the action and its record commit together.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// AuditEntry is what a privileged action did. Action names are
// "<object>.<verb>": user.create, user.disable, user.password,
// token.create, token.revoke, appeal.file, appeal.decide, report.answer,
// export.take, rescore.start, session.signin.
type AuditEntry struct {
	Action     string
	ObjectKind string // "user", "token", "appeal", "report", "firm", ...
	ObjectID   string
	Detail     map[string]any // small and free of secrets (never a password or token)
}

// Audit records who (by), when (now), what (e) and from which address
// (by.Address) in audit_log. Call it with the transaction of the action
// when there is one (q = tx), else with db.Pool.
func Audit(ctx context.Context, q Execer, by auth.Actor, e AuditEntry) error {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	var actorID any
	if by.UserID != 0 {
		actorID = by.UserID
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (actor_id, actor, action, object_kind, object_id, detail, address)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, actorID, by.Name, e.Action, e.ObjectKind, e.ObjectID, detail, by.Address)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, MapErr(err))
	}
	return nil
}

// AuditRecord is one row of the audit log.
type AuditRecord struct {
	At                           time.Time
	Actor, Address               string
	Action, ObjectKind, ObjectID string
	Detail                       string // JSON
}

// RecentAudit lists the newest n audit records, newest first.
func (db *DB) RecentAudit(ctx context.Context, n int) ([]AuditRecord, error) {
	rows, err := db.Pool.Query(ctx, `SELECT at, actor, address, action, object_kind, object_id, detail::text
		FROM audit_log ORDER BY at DESC, id DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("recent audit: %w", err)
	}
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		var r AuditRecord
		if err := rows.Scan(&r.At, &r.Actor, &r.Address, &r.Action, &r.ObjectKind, &r.ObjectID, &r.Detail); err != nil {
			return nil, fmt.Errorf("recent audit: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
