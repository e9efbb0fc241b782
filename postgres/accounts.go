package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/auth"
	"lifttrust/fleet"
)

// AccountStore manages users and API tokens (the user and token commands,
// the admin pages). Every change is audited in its own transaction.
type AccountStore struct {
	db   *DB
	cost int
	now  func() time.Time
}

// NewAccountStore returns the store over db; cost is the bcrypt cost of
// new passwords (0: auth.PasswordCost).
func NewAccountStore(db *DB, cost int) *AccountStore {
	if cost == 0 {
		cost = auth.PasswordCost
	}
	return &AccountStore{db: db, cost: cost, now: time.Now}
}

// CreateUser adds an account and returns its id. A firm user's firm and an
// inspector's districts must exist.
func (s *AccountStore) CreateUser(ctx context.Context, by auth.Actor, n auth.NewUser) (int64, error) {
	if err := n.Check(); err != nil {
		return 0, err
	}
	for _, d := range n.Districts {
		if _, ok := fleet.DistrictByCode(d); !ok {
			return 0, lifttrust.Errorf(lifttrust.ErrInvalid, "未知的区代码 %q / unknown district code %q", d, d)
		}
	}
	hash, err := auth.HashPassword(n.Password, s.cost)
	if err != nil {
		return 0, err
	}
	districts := slices.Compact(slices.Sorted(slices.Values(n.Districts)))
	if districts == nil {
		districts = []string{}
	}
	var id int64
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		if n.FirmUSCC != "" {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM firms WHERE uscc = $1)`, n.FirmUSCC).Scan(&ok); err != nil {
				return fmt.Errorf("create user: %w", err)
			}
			if !ok {
				return lifttrust.Errorf(lifttrust.ErrInvalid, "未知的维保单位 %s / unknown firm %s", n.FirmUSCC, n.FirmUSCC)
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, firm_uscc, agency_uscc, districts, display_name)
			VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), $6, $7) RETURNING id`,
			n.Name, hash, string(n.Role), n.FirmUSCC, n.Agency, districts, n.DisplayName).Scan(&id)
		if err != nil {
			if err = MapErr(err); errors.Is(err, lifttrust.ErrConflict) {
				return lifttrust.Errorf(lifttrust.ErrConflict, "用户名 %s 已存在 / the user name %s is taken", n.Name, n.Name)
			}
			return fmt.Errorf("create user %s: %w", n.Name, err)
		}
		return Audit(ctx, tx, by, AuditEntry{Action: "user.create", ObjectKind: "user", ObjectID: n.Name,
			Detail: map[string]any{"role": n.Role, "firm": n.FirmUSCC, "districts": districts}})
	})
	return id, err
}

// SetPassword replaces name's password (an admin or the command line) and
// ends all of its sessions.
func (s *AccountStore) SetPassword(ctx context.Context, by auth.Actor, name, password string) error {
	hash, err := auth.HashPassword(password, s.cost)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE username = $1 RETURNING id`,
			name, hash, s.now()).Scan(&id); err != nil {
			return userErr(name, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE username = $1`, name); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return Audit(ctx, tx, by, AuditEntry{Action: "user.password", ObjectKind: "user", ObjectID: name})
	})
}

// DisableUser disables name: its sessions end and its tokens stop working
// (they are checked against the user on every use).
func (s *AccountStore) DisableUser(ctx context.Context, by auth.Actor, name string) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `UPDATE users SET disabled = true WHERE username = $1 RETURNING id`, name).Scan(&id); err != nil {
			return userErr(name, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		return Audit(ctx, tx, by, AuditEntry{Action: "user.disable", ObjectKind: "user", ObjectID: name})
	})
}

// UpsertUser creates n, or when the name exists sets its password and
// enables it (serve --demo's users, whose password is the data dir's).
func (s *AccountStore) UpsertUser(ctx context.Context, by auth.Actor, n auth.NewUser) error {
	if err := n.Check(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(n.Password, s.cost)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (username, password_hash, role, firm_uscc, display_name)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5)
			ON CONFLICT (username) DO UPDATE SET password_hash = $2, disabled = false`,
			n.Name, hash, string(n.Role), n.FirmUSCC, n.DisplayName)
		if err != nil {
			return fmt.Errorf("upsert user %s: %w", n.Name, MapErr(err))
		}
		return Audit(ctx, tx, by, AuditEntry{Action: "user.upsert", ObjectKind: "user", ObjectID: n.Name, Detail: map[string]any{"role": n.Role}})
	})
}

func userErr(name string, err error) error {
	if err = MapErr(err); errors.Is(err, lifttrust.ErrNotFound) {
		return lifttrust.Errorf(lifttrust.ErrNotFound, "没有用户 %s / no user %s", name, name)
	}
	return fmt.Errorf("user %s: %w", name, err)
}

// Users lists every account by name.
func (s *AccountStore) Users(ctx context.Context) ([]auth.Account, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, username, role, COALESCE(firm_uscc, ''), COALESCE(agency_uscc, ''), districts,
		display_name, disabled, created_at FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Account, error) {
		var a auth.Account
		var role string
		err := r.Scan(&a.ID, &a.Name, &role, &a.FirmUSCC, &a.Agency, &a.Districts, &a.DisplayName, &a.Disabled, &a.CreatedAt)
		a.Role = auth.Role(role)
		return a, err
	})
}

// CreateToken makes an API token for the user name, valid for ttl, and
// returns its id and the token. Only the token's SHA-256 is stored: the
// caller shows the token once.
func (s *AccountStore) CreateToken(ctx context.Context, by auth.Actor, user, label string, ttl time.Duration) (int64, string, error) {
	if ttl <= 0 {
		return 0, "", lifttrust.Errorf(lifttrust.ErrInvalid, "令牌有效期须为正 / a token's lifetime must be positive")
	}
	tok := "lt_" + auth.RandomSecret()
	expires := s.now().Add(ttl)
	var id int64
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, token_hash, label, expires_at)
			SELECT id, $2, $3, $4 FROM users WHERE username = $1 AND NOT disabled RETURNING id`,
			user, hashToken(tok), label, expires).Scan(&id)
		if err != nil {
			return userErr(user, err)
		}
		return Audit(ctx, tx, by, AuditEntry{Action: "token.create", ObjectKind: "token", ObjectID: strconv.FormatInt(id, 10),
			Detail: map[string]any{"user": user, "label": label, "expires_at": expires}})
	})
	if err != nil {
		return 0, "", err
	}
	return id, tok, nil
}

// RevokeToken revokes token id; it stops working at once.
func (s *AccountStore) RevokeToken(ctx context.Context, by auth.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked = true, revoked_at = $2 WHERE id = $1`, id, s.now())
		if err != nil {
			return fmt.Errorf("revoke token %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有令牌 %d / no token %d", id, id)
		}
		return Audit(ctx, tx, by, AuditEntry{Action: "token.revoke", ObjectKind: "token", ObjectID: strconv.FormatInt(id, 10)})
	})
}

// Tokens lists every API token, newest first.
func (s *AccountStore) Tokens(ctx context.Context) ([]auth.TokenInfo, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT t.id, u.username, t.label, t.created_at, t.expires_at, t.last_used_at, t.revoked
		FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.TokenInfo, error) {
		var t auth.TokenInfo
		err := r.Scan(&t.ID, &t.User, &t.Label, &t.CreatedAt, &t.ExpiresAt, &t.LastUsed, &t.Revoked)
		return t, err
	})
}
