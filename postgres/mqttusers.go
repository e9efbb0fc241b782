package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/mqttauth"
)

// MQTTUserStore keeps the broker identities (mqtt_users): issued, rotated
// and revoked by `lifttrust mqtt-user`, read by the embedded broker and by
// `lifttrust broker-config`.
type MQTTUserStore struct {
	db *DB
}

// NewMQTTUserStore returns the store on db.
func NewMQTTUserStore(db *DB) *MQTTUserStore { return &MQTTUserStore{db: db} }

// subjectQuery checks that the identity a credential is for exists.
var subjectQuery = map[mqttauth.Role]string{
	mqttauth.RoleLift:   `SELECT EXISTS (SELECT 1 FROM lifts WHERE registration_code = $1)`,
	mqttauth.RoleFirm:   `SELECT EXISTS (SELECT 1 FROM firms WHERE uscc = $1)`,
	mqttauth.RoleAgency: `SELECT EXISTS (SELECT 1 FROM agencies WHERE uscc = $1)`,
}

// Put issues or rotates one identity: a new password hash, revoked_at
// cleared. A lift, firm or agency must be registered; a username already
// held by another role is refused (lifttrust.ErrConflict).
func (s *MQTTUserStore) Put(ctx context.Context, role mqttauth.Role, username string, h mqttauth.Hashes) error {
	if err := mqttauth.CheckUsername(role, username); err != nil {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "%v", err)
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		if q, ok := subjectQuery[role]; ok {
			var exists bool
			if err := tx.QueryRow(ctx, q, username).Scan(&exists); err != nil {
				return fmt.Errorf("look up %s %s: %w", role, username, MapErr(err))
			}
			if !exists {
				return lifttrust.Errorf(lifttrust.ErrNotFound, "%s %s is not registered", role, username)
			}
		}
		var got string
		err := tx.QueryRow(ctx, `
			INSERT INTO mqtt_users (username, role, password_hash, mosquitto_hash) VALUES ($1, $2, $3, $4)
			ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
				mosquitto_hash = EXCLUDED.mosquitto_hash, rotated_at = now(), revoked_at = NULL,
				changed_at = clock_timestamp()
			WHERE mqtt_users.role = EXCLUDED.role
			RETURNING role`, username, string(role), h.Bcrypt, h.Mosquitto).Scan(&got)
		if err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return lifttrust.Errorf(lifttrust.ErrConflict, "username %s belongs to another role", username)
			}
			return fmt.Errorf("put MQTT user %s: %w", username, MapErr(err))
		}
		return nil
	})
}

// PutMany issues or rotates many identities of one role in one
// transaction: COPY into a staging table, then one upsert. Usernames held
// by another role are left alone and returned.
func (s *MQTTUserStore) PutMany(ctx context.Context, role mqttauth.Role, users []string, hashes []mqttauth.Hashes) (skipped []string, err error) {
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE mqtt_users_stage (username text, password_hash text, mosquitto_hash text) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("stage MQTT users: %w", MapErr(err))
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"mqtt_users_stage"}, []string{"username", "password_hash", "mosquitto_hash"},
			pgx.CopyFromSlice(len(users), func(i int) ([]any, error) {
				return []any{users[i], hashes[i].Bcrypt, hashes[i].Mosquitto}, nil
			})); err != nil {
			return fmt.Errorf("copy MQTT users: %w", MapErr(err))
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO mqtt_users (username, role, password_hash, mosquitto_hash)
			SELECT username, $1, password_hash, mosquitto_hash FROM mqtt_users_stage
			ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
				mosquitto_hash = EXCLUDED.mosquitto_hash, rotated_at = now(), revoked_at = NULL,
				changed_at = clock_timestamp()
			WHERE mqtt_users.role = EXCLUDED.role`, string(role)); err != nil {
			return fmt.Errorf("upsert MQTT users: %w", MapErr(err))
		}
		rows, err := tx.Query(ctx, `SELECT s.username FROM mqtt_users_stage s JOIN mqtt_users u USING (username) WHERE u.role <> $1`, string(role))
		if err != nil {
			return fmt.Errorf("check MQTT user roles: %w", MapErr(err))
		}
		skipped, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return MapErr(err)
	})
	return skipped, err
}

// Revoke revokes username: the brokers refuse it from their next reload.
func (s *MQTTUserStore) Revoke(ctx context.Context, username string) error {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE mqtt_users SET revoked_at = COALESCE(revoked_at, now()), changed_at = clock_timestamp()
		WHERE username = $1`, username)
	if err != nil {
		return fmt.Errorf("revoke MQTT user %s: %w", username, MapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return lifttrust.Errorf(lifttrust.ErrNotFound, "no MQTT user %s", username)
	}
	return nil
}

// ChangedSince lists the identities changed after since (all of them for
// the zero time), revoked ones included, ordered by changed_at.
func (s *MQTTUserStore) ChangedSince(ctx context.Context, since time.Time) ([]mqttauth.User, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT username, role, password_hash, mosquitto_hash, created_at, rotated_at,
		       revoked_at, changed_at
		FROM mqtt_users WHERE changed_at > $1 ORDER BY changed_at`, since)
	if err != nil {
		return nil, fmt.Errorf("load MQTT users: %w", MapErr(err))
	}
	var out []mqttauth.User
	var u mqttauth.User
	var role string
	var revoked *time.Time
	_, err = pgx.ForEachRow(rows, []any{&u.Username, &role, &u.PasswordHash, &u.MosquittoHash, &u.CreatedAt, &u.RotatedAt, &revoked, &u.ChangedAt}, func() error {
		u.Role = mqttauth.Role(role)
		u.RevokedAt = time.Time{}
		if revoked != nil {
			u.RevokedAt = *revoked
		}
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load MQTT users: %w", MapErr(err))
	}
	return out, nil
}

// IoTLifts lists the registration codes of the IoT-connected lifts in use,
// all of them or those firm maintains: the devices that need credentials.
func (s *MQTTUserStore) IoTLifts(ctx context.Context, firm string) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT registration_code FROM lifts
		WHERE iot_connected AND status = 'in_use' AND ($1 = '' OR firm_uscc = $1) ORDER BY registration_code`, firm)
	if err != nil {
		return nil, fmt.Errorf("list IoT lifts: %w", MapErr(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list IoT lifts: %w", MapErr(err))
	}
	return out, nil
}
