-- Trapped-passenger alerts to the maintaining firm (docs/api.md, "Alerts").
--
-- An entrapment (from the lift's code 11, or a passenger's "trapped"
-- report) gets one row in alerts in the transaction that opened it, and
-- one row in alert_deliveries per way of telling the firm: MQTT always, a
-- webhook when the firm registered one. Senders in every instance claim
-- due deliveries with FOR UPDATE SKIP LOCKED and a lease, so two serve
-- instances never send the same delivery at once.

-- A passenger's trapped report joins the open entrapment of its lift, or
-- opens one (source 'report').
ALTER TABLE reports ADD COLUMN entrapment_id text REFERENCES entrapments;
CREATE INDEX reports_entrapment_idx ON reports (entrapment_id) WHERE entrapment_id IS NOT NULL;

-- A firm's webhook. secret signs every call (HMAC-SHA256); it must be
-- readable to sign, so it is stored as is and never logged or shown again.
CREATE TABLE firm_webhooks (
    firm_uscc  text PRIMARY KEY REFERENCES firms,
    url        text NOT NULL CHECK (url ~ '^https://' AND length(url) <= 500),
    secret     text NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Set when a delivery died (every retry failed); cleared by the next
    -- delivery that succeeds. Inspectors and the firm see it.
    dead_since timestamptz
);

-- One alert per entrapment. joined_to: the open incident of the same lift
-- this one duplicates (the lift raised code 11 after a passenger's
-- report): it gets no deliveries, the firm was already told.
CREATE TABLE alerts (
    entrapment_id text PRIMARY KEY REFERENCES entrapments,
    firm_uscc     text NOT NULL REFERENCES firms,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The first delivery that reached the firm: the "notified" clock.
    notified_at   timestamptz,
    joined_to     text REFERENCES entrapments
);
CREATE INDEX alerts_firm_idx ON alerts (firm_uscc, created_at);

CREATE TABLE alert_deliveries (
    id            bigserial PRIMARY KEY,
    entrapment_id text NOT NULL REFERENCES alerts,
    channel       text NOT NULL CHECK (channel IN ('mqtt', 'webhook')),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts      integer NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL DEFAULT now(),
    -- A claim: until then no other sender takes it. A sender that dies
    -- mid-send leaves it to be retried when the lease runs out.
    leased_until  timestamptz,
    sent_at       timestamptz,
    last_error    text NOT NULL DEFAULT '',
    UNIQUE (entrapment_id, channel)
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (channel, next_at) WHERE status = 'pending';

-- Every attempt, kept for the firm and inspectors to see what happened.
CREATE TABLE alert_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES alert_deliveries ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    attempt     integer NOT NULL,
    ok          boolean NOT NULL,
    http_status integer,
    error       text NOT NULL DEFAULT '' CHECK (length(error) <= 500),
    took_ms     integer NOT NULL
);
CREATE INDEX alert_attempts_delivery_idx ON alert_attempts (delivery_id, at);
