-- LiftTrust schema, version 1: the whole domain of shared/DOMAIN.md.
--
-- Conventions: tables are named in the plural for what they hold; codes are
-- text with CHECK constraints (not char(n), whose blank-padding surprises);
-- every record that can arrive twice (MQTT QoS 1 re-delivery, a re-uploaded
-- file) has a natural unique key so that INSERT ... ON CONFLICT DO NOTHING
-- makes re-delivery idempotent.

-- Identifier checks, mirrored in Go (package fleet), so that bad codes are
-- impossible in the database even when a row bypasses the application.
CREATE FUNCTION uscc_valid(code text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$' AND substr(
    '0123456789ABCDEFGHJKLMNPQRTUWXY',
    ((31 - (SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(code, i::int, 1)) - 1) * w)
            FROM unnest(ARRAY[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]) WITH ORDINALITY AS t(w, i)) % 31) % 31)::int + 1,
    1) = substr(code, 18, 1)
$$;

-- Structure only (category 3xxx, a province-level division, year 1950-2099,
-- month 01-12); the Go validator also checks the category and division lists.
CREATE FUNCTION registration_code_valid(code text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT code ~ '^3[0-9]{3}[1-8][0-9]{5}(19[5-9][0-9]|20[0-9]{2})(0[1-9]|1[0-2])[0-9]{4}$'
$$;

CREATE TABLE districts (
    code    text PRIMARY KEY CHECK (code ~ '^[1-8][0-9]{5}$'),
    name_zh text NOT NULL,
    name_en text NOT NULL
);

INSERT INTO districts (code, name_zh, name_en) VALUES
    ('310101', '黄浦区', 'Huangpu'),
    ('310104', '徐汇区', 'Xuhui'),
    ('310105', '长宁区', 'Changning'),
    ('310106', '静安区', 'Jing''an'),
    ('310107', '普陀区', 'Putuo'),
    ('310109', '虹口区', 'Hongkou'),
    ('310110', '杨浦区', 'Yangpu'),
    ('310112', '闵行区', 'Minhang'),
    ('310113', '宝山区', 'Baoshan'),
    ('310114', '嘉定区', 'Jiading'),
    ('310115', '浦东新区', 'Pudong'),
    ('310116', '金山区', 'Jinshan'),
    ('310117', '松江区', 'Songjiang'),
    ('310118', '青浦区', 'Qingpu'),
    ('310120', '奉贤区', 'Fengxian'),
    ('310151', '崇明区', 'Chongming');

-- Maintenance companies (维保单位).
CREATE TABLE firms (
    uscc             text PRIMARY KEY CHECK (uscc_valid(uscc)),
    name             text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
    name_en          text NOT NULL DEFAULT '',
    licence_no       text NOT NULL CHECK (length(licence_no) BETWEEN 4 AND 64),
    licence_expires  date NOT NULL,
    -- The company's 24-hour duty line: public by design (DOMAIN.md).
    duty_phone       text NOT NULL CHECK (duty_phone ~ '^[0-9+\-]{3,20}$'),
    address          text NOT NULL DEFAULT '',
    district_code    text REFERENCES districts,
    serious_violator boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Inspection agencies (检验机构); their USCC is the agency code in MQTT topics.
CREATE TABLE agencies (
    uscc       text PRIMARY KEY CHECK (uscc_valid(uscc)),
    name       text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
    name_en    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Use units (使用单位): the property manager responsible for a lift.
-- contact_phone is the unit's office line shown on the public page;
-- the safety manager is a person and is not stored beyond a masked name.
CREATE TABLE use_units (
    uscc                text PRIMARY KEY CHECK (uscc_valid(uscc)),
    name                text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
    district_code       text NOT NULL REFERENCES districts,
    address             text NOT NULL DEFAULT '',
    contact_phone       text NOT NULL DEFAULT '' CHECK (contact_phone ~ '^[0-9+\-]{0,20}$'),
    safety_manager_masked text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX use_units_district_idx ON use_units (district_code);

CREATE TABLE lifts (
    registration_code text PRIMARY KEY CHECK (registration_code_valid(registration_code)),
    -- Equipment category is the first four digits of the registration code;
    -- generated so the two can never disagree.
    category          text GENERATED ALWAYS AS (left(registration_code, 4)) STORED,
    device_code       text UNIQUE CHECK (device_code ~ '^[0-9A-Z]{18,20}$'),
    district_code     text NOT NULL REFERENCES districts,
    address           text NOT NULL CHECK (length(address) BETWEEN 2 AND 300),
    building          text NOT NULL DEFAULT '',
    lift_no           text NOT NULL DEFAULT '',
    installed_on      date NOT NULL,
    floors            smallint NOT NULL CHECK (floors BETWEEN 1 AND 200),
    rated_speed       numeric(4,2) NOT NULL CHECK (rated_speed > 0 AND rated_speed <= 20),
    rated_load        integer NOT NULL CHECK (rated_load BETWEEN 50 AND 100000),
    use_unit_uscc     text NOT NULL REFERENCES use_units,
    -- The current maintenance firm; history is in lift_contracts.
    firm_uscc         text REFERENCES firms,
    iot_connected     boolean NOT NULL DEFAULT true,
    status            text NOT NULL DEFAULT 'in_use' CHECK (status IN ('in_use', 'suspended', 'scrapped')),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lifts_firm_idx ON lifts (firm_uscc);
CREATE INDEX lifts_district_idx ON lifts (district_code);
CREATE INDEX lifts_use_unit_idx ON lifts (use_unit_uscc);

-- Which firm maintained which lift when: scoring counts exposure (lift-days)
-- from here, so a firm that gains or loses lifts mid-year is measured fairly.
CREATE TABLE lift_contracts (
    lift_code  text NOT NULL REFERENCES lifts,
    firm_uscc  text NOT NULL REFERENCES firms,
    starts_on  date NOT NULL,
    ends_on    date,
    PRIMARY KEY (lift_code, starts_on),
    CHECK (ends_on IS NULL OR ends_on > starts_on)
);
CREATE INDEX lift_contracts_firm_idx ON lift_contracts (firm_uscc, starts_on);

-- Technicians: only what the rules need (certificate, firm, a masked name).
CREATE TABLE technicians (
    certificate_no text PRIMARY KEY CHECK (certificate_no ~ '^[A-Z0-9]{6,32}$'),
    firm_uscc      text NOT NULL REFERENCES firms,
    name_masked    text NOT NULL CHECK (length(name_masked) BETWEEN 1 AND 20),
    certified      boolean NOT NULL DEFAULT true,
    cert_expires   date
);
CREATE INDEX technicians_firm_idx ON technicians (firm_uscc);

-- Maintenance records (TSG T5002-2017); kept at least 5 years.
CREATE TABLE maintenance_records (
    id            text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:\-]{1,64}$'),
    lift_code     text NOT NULL REFERENCES lifts,
    firm_uscc     text NOT NULL REFERENCES firms,
    kind          text NOT NULL CHECK (kind IN ('half_monthly', 'quarterly', 'half_yearly', 'yearly', 'repair')),
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz NOT NULL,
    technicians   text[] NOT NULL CHECK (cardinality(technicians) BETWEEN 1 AND 10),
    items         text[] NOT NULL DEFAULT '{}',
    parts         text[] NOT NULL DEFAULT '{}',
    countersigned boolean NOT NULL DEFAULT false,
    source        text NOT NULL DEFAULT 'mqtt' CHECK (source IN ('mqtt', 'upload', 'seed')),
    received_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ended_at > started_at AND ended_at - started_at < interval '7 days')
);
CREATE INDEX maintenance_records_lift_idx ON maintenance_records (lift_code, started_at);
CREATE INDEX maintenance_records_firm_idx ON maintenance_records (firm_uscc, started_at);

-- Periodic and supervision inspections by agencies.
CREATE TABLE inspections (
    id           text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:\-]{1,64}$'),
    lift_code    text NOT NULL REFERENCES lifts,
    agency_uscc  text NOT NULL REFERENCES agencies,
    inspected_on date NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('periodic', 'supervision')),
    result       text NOT NULL CHECK (result IN ('pass', 'fail', 'pass_after_rectification')),
    defects      text[] NOT NULL DEFAULT '{}',
    next_due     date,
    source       text NOT NULL DEFAULT 'mqtt' CHECK (source IN ('mqtt', 'upload', 'seed')),
    received_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (next_due IS NULL OR next_due > inspected_on)
);
CREATE INDEX inspections_lift_idx ON inspections (lift_code, inspected_on);

-- Raw status heartbeats, partitioned by month and dropped by retention
-- (default 13 months). No foreign key: ingest checks the lift before COPY,
-- and a FK on the hottest table would cost every insert a lookup.
CREATE TABLE telemetry (
    lift_code   text NOT NULL,
    ts          timestamptz NOT NULL,
    seq         bigint NOT NULL,
    floor       smallint,
    direction   smallint NOT NULL CHECK (direction BETWEEN 0 AND 2),
    door_locked boolean NOT NULL,
    door_zone   boolean NOT NULL,
    mode        smallint NOT NULL CHECK (mode BETWEEN 0 AND 7),
    passenger   boolean NOT NULL,
    speed       real,
    load_pct    smallint,
    trips       bigint,
    run_hours   real,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lift_code, ts, seq)
) PARTITION BY RANGE (ts);

-- Creates the monthly partitions covering [from_ts, to_ts); safe to repeat.
CREATE FUNCTION telemetry_ensure_partitions(from_ts timestamptz, to_ts timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    m date := date_trunc('month', from_ts AT TIME ZONE 'UTC')::date;
    created integer := 0;
    name text;
BEGIN
    WHILE m < to_ts LOOP
        name := 'telemetry_' || to_char(m, 'YYYYMM');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF telemetry FOR VALUES FROM (%L) TO (%L)',
                name, (m::timestamp AT TIME ZONE 'UTC'), ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN created;
END $$;

-- Drops monthly partitions that end before cutoff; returns how many.
CREATE FUNCTION telemetry_drop_partitions(cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    dropped integer := 0;
BEGIN
    FOR r IN SELECT c.relname FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname = 'telemetry' AND c.relname ~ '^telemetry_[0-9]{6}$' LOOP
        IF (to_date(substr(r.relname, 11), 'YYYYMM') + interval '1 month') <= (cutoff AT TIME ZONE 'UTC') THEN
            EXECUTE format('DROP TABLE %I', r.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END $$;

SELECT telemetry_ensure_partitions(now() - interval '2 months', now() + interval '3 months');

-- The latest heartbeat per lift (live state).
CREATE TABLE lift_status (
    lift_code   text PRIMARY KEY REFERENCES lifts,
    ts          timestamptz NOT NULL,
    seq         bigint NOT NULL,
    floor       smallint,
    direction   smallint NOT NULL CHECK (direction BETWEEN 0 AND 2),
    door_locked boolean NOT NULL,
    door_zone   boolean NOT NULL,
    mode        smallint NOT NULL CHECK (mode BETWEEN 0 AND 7),
    passenger   boolean NOT NULL,
    speed       real,
    load_pct    smallint,
    trips       bigint,
    run_hours   real,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- State episodes derived from the status stream: intervals in each service
-- mode (above all 'inspection', 检修, which corroborates maintenance visits),
-- offline intervals and trapped intervals. Kept as long as records (5 years);
-- scoring reads these, never raw telemetry. ended_at NULL = still open.
CREATE TABLE episodes (
    id         bigserial PRIMARY KEY,
    lift_code  text NOT NULL REFERENCES lifts,
    state      text NOT NULL CHECK (state IN ('stopped', 'normal', 'inspection', 'fire_return', 'firefighter',
                                               'emergency_power', 'earthquake', 'unknown', 'offline', 'trapped')),
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    UNIQUE (lift_code, state, started_at),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX episodes_lift_idx ON episodes (lift_code, started_at);
CREATE INDEX episodes_open_idx ON episodes (lift_code) WHERE ended_at IS NULL;

-- Fault and alarm events (GB/T 24476 codes, DOMAIN.md). id is unique per
-- device; the 'cleared' message carries the id of the 'raised' one.
CREATE TABLE events (
    lift_code  text NOT NULL REFERENCES lifts,
    id         text NOT NULL CHECK (id ~ '^[A-Za-z0-9_.:\-]{1,64}$'),
    code       smallint NOT NULL CHECK (code BETWEEN 1 AND 11 OR code = 90),
    raised_at  timestamptz NOT NULL,
    cleared_at timestamptz,
    floor      smallint,
    -- Attributed cause, set from the rescue or the repair record; scoring
    -- excludes misuse and external causes from reliability.
    cause      text CHECK (cause IN ('equipment', 'maintenance', 'misuse', 'external')),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lift_code, id),
    CHECK (cleared_at IS NULL OR cleared_at >= raised_at)
);
CREATE INDEX events_lift_time_idx ON events (lift_code, raised_at);
CREATE INDEX events_time_idx ON events (raised_at);
CREATE INDEX events_open_idx ON events (lift_code) WHERE cleared_at IS NULL;

-- Entrapment incidents (困人) and their rescue stages.
CREATE TABLE entrapments (
    id           text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:\-]{1,80}$'),
    lift_code    text NOT NULL REFERENCES lifts,
    -- The firm responsible when it happened (contracts change).
    firm_uscc    text NOT NULL REFERENCES firms,
    source       text NOT NULL DEFAULT 'iot' CHECK (source IN ('iot', 'report', 'phone')),
    event_id     text,
    occurred_at  timestamptz NOT NULL,
    responded_at timestamptz,
    arrived_at   timestamptz,
    released_at  timestamptz,
    false_alarm  boolean NOT NULL DEFAULT false,
    cause        text CHECK (cause IN ('equipment', 'maintenance', 'misuse', 'external')),
    CHECK (responded_at IS NULL OR responded_at >= occurred_at),
    CHECK (arrived_at IS NULL OR arrived_at >= occurred_at),
    CHECK (released_at IS NULL OR released_at >= occurred_at)
);
CREATE INDEX entrapments_lift_idx ON entrapments (lift_code, occurred_at);
CREATE INDEX entrapments_firm_idx ON entrapments (firm_uscc, occurred_at);
CREATE INDEX entrapments_open_idx ON entrapments (occurred_at) WHERE released_at IS NULL AND NOT false_alarm;

-- Passenger reports (complaints) with a public tracking number.
-- callback_phone is personal data: never shown publicly, masked for firms.
CREATE TABLE reports (
    tracking_no     text PRIMARY KEY CHECK (tracking_no ~ '^[A-Z0-9]{8,16}$'),
    lift_code       text NOT NULL REFERENCES lifts,
    firm_uscc       text REFERENCES firms,
    category        text NOT NULL CHECK (category IN ('trapped', 'stopped', 'doors', 'noise', 'dirty', 'info_wrong', 'other')),
    body            text NOT NULL DEFAULT '' CHECK (length(body) <= 500),
    callback_phone  text NOT NULL DEFAULT '' CHECK (callback_phone ~ '^[0-9+\-]{0,20}$'),
    lang            text NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'answered', 'closed', 'rejected')),
    -- Set by an inspector: a verified complaint counts in scoring.
    verified        boolean,
    answer          text NOT NULL DEFAULT '' CHECK (length(answer) <= 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    answered_at     timestamptz,
    closed_at       timestamptz
);
CREATE INDEX reports_lift_idx ON reports (lift_code, created_at);
CREATE INDEX reports_firm_idx ON reports (firm_uscc, status, created_at);

-- Administrative penalties. Veto kinds (safety_circuit_bypass, subcontracting,
-- accident) put a firm straight into grade D.
CREATE TABLE penalties (
    id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    firm_uscc   text NOT NULL REFERENCES firms,
    lift_code   text REFERENCES lifts,
    kind        text NOT NULL CHECK (kind IN ('safety_circuit_bypass', 'subcontracting', 'accident', 'licence',
                                              'maintenance_overdue', 'records_falsified', 'other')),
    decided_on  date NOT NULL,
    amount_yuan numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount_yuan >= 0),
    description text NOT NULL DEFAULT '',
    revoked     boolean NOT NULL DEFAULT false
);
CREATE INDEX penalties_firm_idx ON penalties (firm_uscc, decided_on);

-- Users and roles. A firm user belongs to exactly one firm; an agency user
-- to one agency; inspectors and admins to neither.
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.\-]{3,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('firm', 'agency', 'inspector', 'admin')),
    firm_uscc     text REFERENCES firms,
    agency_uscc   text REFERENCES agencies,
    display_name  text NOT NULL DEFAULT '',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'firm') = (firm_uscc IS NOT NULL)),
    CHECK ((role = 'agency') = (agency_uscc IS NOT NULL))
);

-- API tokens for machine uploads (bulk ingest); only a hash is stored.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked      boolean NOT NULL DEFAULT false
);

-- Scoring: one row per run (period, model version, inputs checksum), so an
-- old score can be explained later and trends drawn.
CREATE TABLE score_runs (
    id              bigserial PRIMARY KEY,
    model_version   text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    trigger         text NOT NULL CHECK (trigger IN ('daily', 'manual', 'event', 'appeal', 'seed')),
    inputs_checksum text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    firms_scored    integer NOT NULL DEFAULT 0,
    -- A full run scores every firm and stores the city baseline (priors
    -- and expected fault rates) that later runs of single firms reuse.
    full_run        boolean NOT NULL DEFAULT true,
    baseline        jsonb,
    CHECK (period_end > period_start),
    CHECK (NOT full_run OR baseline IS NOT NULL)
);
CREATE INDEX score_runs_full_idx ON score_runs (model_version, id DESC) WHERE full_run;

CREATE TABLE scores (
    run_id      bigint NOT NULL REFERENCES score_runs ON DELETE CASCADE,
    firm_uscc   text NOT NULL REFERENCES firms,
    score       numeric(6,2) NOT NULL CHECK (score BETWEEN 0 AND 100),
    score_low   numeric(6,2) NOT NULL,
    score_high  numeric(6,2) NOT NULL,
    grade       text NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
    provisional boolean NOT NULL DEFAULT false,
    -- From the width of the 90 % interval: high < ±2.5, medium < ±6, low.
    confidence  text NOT NULL DEFAULT 'high' CHECK (confidence IN ('high', 'medium', 'low')),
    rank        integer,
    lifts       integer NOT NULL DEFAULT 0,
    lift_days   bigint NOT NULL DEFAULT 0,
    vetoes      text[] NOT NULL DEFAULT '{}',
    -- Points per dimension and indicator values, as the model computed them.
    dimensions  jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, firm_uscc)
);
CREATE INDEX scores_firm_idx ON scores (firm_uscc, run_id DESC);

-- Each firm's current score: its row in the latest run that scored it
-- (runs of single firms happen between the daily full runs).
CREATE VIEW latest_scores AS
    SELECT DISTINCT ON (s.firm_uscc) s.*, r.model_version, r.period_start, r.period_end, r.finished_at AS scored_at
    FROM scores s JOIN score_runs r ON r.id = s.run_id
    ORDER BY s.firm_uscc, s.run_id DESC;

-- Every point lost, with the records it comes from. Kept for each firm's
-- two latest runs only (a city run has a few hundred thousand rows); older
-- runs keep their per-indicator summaries in scores.dimensions. points is
-- negative; record_kind 'firm' is the part of a loss that comes from
-- shrinkage toward the city mean, not from a record.
CREATE TABLE score_evidence (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL,
    firm_uscc   text NOT NULL,
    indicator   text NOT NULL,
    points      numeric(8,4) NOT NULL,
    record_kind text NOT NULL CHECK (record_kind IN ('maintenance', 'inspection', 'event', 'entrapment', 'report',
                                                     'penalty', 'lift', 'episode', 'firm')),
    record_id   text NOT NULL,
    lift_code   text,
    occurred_at timestamptz,
    detail      jsonb NOT NULL DEFAULT '{}',
    FOREIGN KEY (run_id, firm_uscc) REFERENCES scores ON DELETE CASCADE
);
CREATE INDEX score_evidence_run_idx ON score_evidence (run_id, firm_uscc, indicator);
CREATE INDEX score_evidence_record_idx ON score_evidence (record_kind, record_id);

-- Appeals: a firm disputes one evidence record; an inspector decides.
-- An accepted appeal removes the record from scoring.
CREATE TABLE appeals (
    id              bigserial PRIMARY KEY,
    firm_uscc       text NOT NULL REFERENCES firms,
    record_kind     text NOT NULL CHECK (record_kind IN ('maintenance', 'inspection', 'event', 'entrapment', 'report',
                                                         'penalty', 'lift', 'episode')),
    record_id       text NOT NULL CHECK (length(record_id) BETWEEN 1 AND 120),
    indicator       text NOT NULL DEFAULT '',
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    filed_by        bigint REFERENCES users,
    filed_at        timestamptz NOT NULL DEFAULT now(),
    decided_by      bigint REFERENCES users,
    decided_at      timestamptz,
    decision_reason text NOT NULL DEFAULT '',
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX appeals_one_pending_idx ON appeals (firm_uscc, record_kind, record_id) WHERE status = 'pending';
CREATE INDEX appeals_status_idx ON appeals (status, filed_at);
CREATE INDEX appeals_firm_idx ON appeals (firm_uscc, status);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint REFERENCES users,
    actor       text NOT NULL,
    action      text NOT NULL,
    object_kind text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_object_idx ON audit_log (object_kind, object_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Rejected input, never silently dropped. payload is bounded (64 KiB); the
-- original size is kept.
CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL CHECK (source IN ('mqtt', 'http')),
    topic        text NOT NULL DEFAULT '',
    reason       text NOT NULL,
    detail       text NOT NULL DEFAULT '',
    payload      bytea NOT NULL CHECK (octet_length(payload) <= 65536),
    payload_size integer NOT NULL
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason, received_at);
