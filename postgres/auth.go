package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/auth"
)

// AuthConfig tunes sign-in and sessions; zero fields take the defaults.
type AuthConfig struct {
	Idle         time.Duration // a session unused this long ends (30 min)
	Absolute     time.Duration // a session ends this long after sign-in (12 h)
	LockAfter    int           // wrong passwords in a row that lock a user name (5)
	LockFor      time.Duration // how long the lock lasts (15 min)
	PasswordCost int           // bcrypt cost of new hashes (auth.PasswordCost; tests lower it)
	Now          func() time.Time
}

func (c AuthConfig) withDefaults() AuthConfig {
	if c.Idle <= 0 {
		c.Idle = 30 * time.Minute
	}
	if c.Absolute <= 0 {
		c.Absolute = 12 * time.Hour
	}
	if c.LockAfter <= 0 {
		c.LockAfter = 5
	}
	if c.LockFor <= 0 {
		c.LockFor = 15 * time.Minute
	}
	if c.PasswordCost == 0 {
		c.PasswordCost = auth.PasswordCost
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// AuthStore signs users in and resolves API tokens and browser sessions
// to users. Sessions are our own rows rather than a session library's:
// see docs/operations.md ("Sessions") for why.
type AuthStore struct {
	db  *DB
	cfg AuthConfig

	dummyOnce sync.Once
	dummy     string // a hash to compare against for unknown users
}

// NewAuthStore returns the store over db with the default timeouts.
func NewAuthStore(db *DB) *AuthStore { return NewAuthStoreWith(db, AuthConfig{}) }

// NewAuthStoreWith returns the store over db with cfg.
func NewAuthStoreWith(db *DB, cfg AuthConfig) *AuthStore {
	return &AuthStore{db: db, cfg: cfg.withDefaults()}
}

// Config is the store's configuration after defaults.
func (s *AuthStore) Config() AuthConfig { return s.cfg }

func hashToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// userCols are the columns scanUser reads, from users u.
const userCols = `u.id, u.username, u.role, COALESCE(u.firm_uscc, ''), COALESCE(u.agency_uscc, ''), u.districts`

func scanUser(row pgx.Row, u *auth.User, extra ...any) error {
	var role string
	if err := row.Scan(append([]any{&u.ID, &u.Name, &role, &u.FirmUSCC, &u.Agency, &u.Districts}, extra...)...); err != nil {
		return err
	}
	u.Role = auth.Role(role)
	if len(u.Districts) == 0 {
		u.Districts = nil
	}
	return nil
}

// TokenUser finds the enabled user owning the unrevoked, unexpired API
// token (only its SHA-256 is stored) and records that the token was used.
func (s *AuthStore) TokenUser(ctx context.Context, token string) (*auth.User, error) {
	if token == "" {
		return nil, lifttrust.ErrUnauthenticated
	}
	u := &auth.User{}
	err := scanUser(s.db.Pool.QueryRow(ctx, `
		UPDATE api_tokens t SET last_used_at = $2
		FROM users u
		WHERE t.token_hash = $1 AND NOT t.revoked AND (t.expires_at IS NULL OR t.expires_at > $2)
		  AND u.id = t.user_id AND NOT u.disabled
		RETURNING `+userCols, hashToken(token), s.cfg.Now()), u)
	if err != nil {
		if err = MapErr(err); errors.Is(err, lifttrust.ErrNotFound) {
			return nil, lifttrust.Errorf(lifttrust.ErrUnauthenticated, "API 令牌无效、已过期或已撤销 / the API token is unknown, expired or revoked")
		}
		return nil, fmt.Errorf("look up API token: %w", err)
	}
	return u, nil
}

// SessionUser finds the enabled user of a browser session that has
// neither passed its absolute end nor been idle for longer than the idle
// timeout, and marks it used. The mark is written at most once per
// minute (or per tenth of the idle timeout when shorter), so a busy page
// costs no write per request.
func (s *AuthStore) SessionUser(ctx context.Context, token string) (*auth.User, error) {
	if token == "" {
		return nil, lifttrust.ErrUnauthenticated
	}
	now := s.cfg.Now()
	touch := min(time.Minute, s.cfg.Idle/10)
	u := &auth.User{}
	var sid int64
	err := scanUser(s.db.Pool.QueryRow(ctx, `
		WITH s AS (
			SELECT s.id, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND NOT u.disabled
		), touched AS (
			UPDATE sessions SET last_seen_at = $2 FROM s
			WHERE sessions.id = s.id AND s.last_seen_at < $4
		)
		SELECT `+userCols+`, s.id FROM s JOIN sessions x ON x.id = s.id JOIN users u ON u.id = x.user_id`,
		hashToken(token), now, now.Add(-s.cfg.Idle), now.Add(-touch)), u, &sid)
	if err != nil {
		if err = MapErr(err); errors.Is(err, lifttrust.ErrNotFound) {
			return nil, lifttrust.ErrUnauthenticated
		}
		return nil, fmt.Errorf("look up session: %w", err)
	}
	u.SessionID = fmt.Sprint(sid)
	return u, nil
}

// SignIn checks a user name and password and, when they match an enabled
// user, starts a new session and returns its token (the caller sets it as
// the cookie). The session the browser had before (old), if any, is
// deleted: the token rotates at every sign-in. LockAfter wrong passwords
// for one user name in a row lock that name for LockFor, whether or not
// the user exists, and a locked name is refused even with the right
// password; both refusals read the same for every name.
func (s *AuthStore) SignIn(ctx context.Context, username, password, old, addr string) (string, *auth.User, error) {
	now := s.cfg.Now()
	var (
		token  string
		u      *auth.User
		refuse error
	)
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		// One attempt per name at a time: parallel guesses cannot slip
		// past the count.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('login:' || $1))`, username); err != nil {
			return fmt.Errorf("sign-in lock: %w", err)
		}
		var failures int
		var locked *time.Time
		err := tx.QueryRow(ctx, `SELECT failures, locked_until FROM login_failures WHERE username = $1`, username).Scan(&failures, &locked)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("sign-in failures: %w", err)
		}
		if locked != nil && locked.After(now) {
			refuse = auth.LockedError(s.cfg.LockFor)
			return nil
		}
		cand := &auth.User{}
		var hash string
		err = scanUser(tx.QueryRow(ctx, `SELECT `+userCols+`, u.password_hash FROM users u
			WHERE u.username = $1 AND NOT u.disabled`, username), cand, &hash)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			hash = s.dummyHash() // the same time as a real check
			cand = nil
		case err != nil:
			return fmt.Errorf("sign-in user: %w", err)
		}
		if !auth.PasswordMatches(hash, password) || cand == nil {
			failures++
			var until *time.Time
			if failures >= s.cfg.LockAfter {
				t := now.Add(s.cfg.LockFor)
				until, failures = &t, 0
			}
			if _, err := tx.Exec(ctx, `INSERT INTO login_failures (username, failures, last_at, locked_until) VALUES ($1, $2, $3, $4)
				ON CONFLICT (username) DO UPDATE SET failures = $2, last_at = $3, locked_until = $4`, username, failures, now, until); err != nil {
				return fmt.Errorf("sign-in failures: %w", err)
			}
			refuse = auth.ErrBadLogin
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE username = $1`, username); err != nil {
			return fmt.Errorf("sign-in failures: %w", err)
		}
		if old != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(old)); err != nil {
				return fmt.Errorf("rotate session: %w", err)
			}
		}
		// Sweep this user's dead sessions while we are here.
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR last_seen_at <= $3)`,
			cand.ID, now, now.Add(-s.cfg.Idle)); err != nil {
			return fmt.Errorf("sweep sessions: %w", err)
		}
		token = auth.RandomSecret()
		var sid int64
		if err := tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, address)
			VALUES ($1, $2, $3, $3, $4, $5) RETURNING id`, hashToken(token), cand.ID, now, now.Add(s.cfg.Absolute), addr).Scan(&sid); err != nil {
			return fmt.Errorf("create session: %w", MapErr(err))
		}
		cand.SessionID = fmt.Sprint(sid)
		u = cand
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	if refuse != nil {
		return "", nil, refuse
	}
	return token, u, nil
}

func (s *AuthStore) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := auth.HashPassword(auth.RandomSecret(), s.cfg.PasswordCost)
		if err != nil {
			panic(err) // a random 43-character password always hashes
		}
		s.dummy = h
	})
	return s.dummy
}

// SignOut ends the session of token (a no-op when it has ended already).
func (s *AuthStore) SignOut(ctx context.Context, token string) error {
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// ChangePassword sets u's password after checking the current one. Every
// other session of u ends; the one of token (the caller's) stays.
func (s *AuthStore) ChangePassword(ctx context.Context, u *auth.User, token, current, next, addr string) error {
	hash, err := auth.HashPassword(next, s.cfg.PasswordCost)
	if err != nil {
		return err
	}
	var refuse error
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		var old string
		if err := tx.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1 AND NOT disabled FOR UPDATE`, u.ID).Scan(&old); err != nil {
			return fmt.Errorf("change password: %w", MapErr(err))
		}
		if !auth.PasswordMatches(old, current) {
			refuse = lifttrust.Errorf(lifttrust.ErrInvalid, "当前密码不正确。 / The current password is wrong.")
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, u.ID, hash, s.cfg.Now()); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, u.ID, hashToken(token)); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return Audit(ctx, tx, u.Actor(addr), AuditEntry{Action: "user.password", ObjectKind: "user", ObjectID: u.Name})
	})
	if err != nil {
		return err
	}
	return refuse
}
