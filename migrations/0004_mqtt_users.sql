-- Broker identities: every publisher has its own MQTT credentials (one per
-- IoT lift, maintenance firm, inspection agency and LiftTrust service),
-- issued by `lifttrust mqtt-user`, enforced by every broker a deployment
-- runs (the embedded one reads this table, Mosquitto gets files written
-- from it by `lifttrust broker-config`, EMQX queries it; docs/operations.md).
--
-- The username is the identity the topics name: the registration code of a
-- lift, the USCC of a firm or agency, a service's name. Only hashes are
-- stored, of one random password in two formats: bcrypt (embedded broker,
-- EMQX) and mosquitto_passwd's $7$ PBKDF2-SHA512 (Mosquitto's password
-- file cannot be written from bcrypt). A revoked identity keeps its row
-- (who had it, until when); `add` again issues a new password and clears
-- revoked_at. changed_at lets the embedded broker reload only what changed.
CREATE TABLE mqtt_users (
    username       text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9_-]{1,64}$'),
    role           text NOT NULL CHECK (role IN ('lift', 'firm', 'agency', 'service')),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$2%'),
    mosquitto_hash text NOT NULL CHECK (mosquitto_hash LIKE '$7$%'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    rotated_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    changed_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX mqtt_users_changed_idx ON mqtt_users (changed_at);
