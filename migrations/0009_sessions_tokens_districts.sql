-- Sign-in: server-side browser sessions, lock-out state, expiring API
-- tokens, inspector districts and the address of each audited action.

-- A browser session. The cookie holds a random 256-bit token; only its
-- SHA-256 is stored, so a copy of this table signs no one in. A session
-- ends at expires_at (absolute) or after the idle timeout since
-- last_seen_at, whichever comes first (both checked by the store).
CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    address      text NOT NULL DEFAULT '',
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Failed sign-ins by the name typed, whether or not such a user exists:
-- an unknown name locks exactly as a real one does, so the answer never
-- tells whether an account exists.
CREATE TABLE login_failures (
    username     text PRIMARY KEY,
    failures     integer NOT NULL DEFAULT 0,
    last_at      timestamptz NOT NULL,
    locked_until timestamptz
);

ALTER TABLE users ADD COLUMN districts text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD CONSTRAINT users_districts_inspector CHECK (role = 'inspector' OR districts = '{}');
-- One place for an inspector's districts: users.districts (empty = the whole
-- city) replaces the spot-check table of migration 0006.
UPDATE users u SET districts = d.codes
  FROM (SELECT user_id, array_agg(district_code ORDER BY district_code) AS codes FROM inspector_districts GROUP BY user_id) d
 WHERE d.user_id = u.id AND u.role = 'inspector';
DROP TABLE inspector_districts;

-- Tokens expire; NULL only for tokens made before this migration.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN revoked_at timestamptz;

ALTER TABLE audit_log ADD COLUMN address text NOT NULL DEFAULT '';
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
