-- Credit-risk classified supervision: the districts an inspector may
-- check, each lift's risk forecast, the monthly spot-check plans drawn by
-- risk, and the results inspectors record (issue 14, docs/scoring.md).

-- An inspector is drawn only among those who may check the lift's
-- district (双随机: targets and inspectors both drawn at random).
CREATE TABLE inspector_districts (
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    district_code text NOT NULL REFERENCES districts,
    PRIMARY KEY (user_id, district_code)
);

-- One fit of the risk forecast (package risk): the model with its
-- coefficients, so every stored probability can be explained later.
CREATE TABLE risk_runs (
    id         bigserial PRIMARY KEY,
    as_of      timestamptz NOT NULL,
    model      jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Each lift's chance of a fault or entrapment in the 90 days after as_of,
-- with its top three reasons (risk.Terms keys; the words are in Go).
CREATE TABLE risk_forecasts (
    run_id      bigint NOT NULL REFERENCES risk_runs ON DELETE CASCADE,
    lift_code   text NOT NULL REFERENCES lifts,
    probability double precision NOT NULL CHECK (probability BETWEEN 0 AND 1),
    reasons     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, lift_code)
);

-- One plan per month: drawing again until a plan suits would defeat the
-- published seed. weights are the spotcheck.Weights used; the inputs
-- checksum covers every candidate's grade and forecast, so anyone holding
-- the published probabilities and seed can re-draw the same plan.
CREATE TABLE spotcheck_plans (
    id              bigserial PRIMARY KEY,
    month           date NOT NULL UNIQUE CHECK (extract(day FROM month) = 1),
    checks          integer NOT NULL CHECK (checks > 0),
    seed            bigint NOT NULL,
    weights         jsonb NOT NULL,
    risk_run_id     bigint REFERENCES risk_runs,
    inputs_checksum text NOT NULL,
    unassigned      integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Every lift in use with its selection probability in the plan; drawn
-- lifts carry the inspector assigned (NULL: no inspector may take it).
CREATE TABLE spotcheck_selections (
    plan_id      bigint NOT NULL REFERENCES spotcheck_plans ON DELETE CASCADE,
    lift_code    text NOT NULL REFERENCES lifts,
    firm_uscc    text REFERENCES firms,
    grade        text NOT NULL DEFAULT '',
    forecast     double precision,
    probability  double precision NOT NULL CHECK (probability > 0 AND probability <= 1),
    drawn        boolean NOT NULL,
    inspector_id bigint REFERENCES users,
    PRIMARY KEY (plan_id, lift_code),
    CHECK (drawn OR inspector_id IS NULL)
);
CREATE INDEX spotcheck_selections_drawn_idx ON spotcheck_selections (plan_id) WHERE drawn;
CREATE INDEX spotcheck_selections_inspector_idx ON spotcheck_selections (inspector_id, plan_id) WHERE drawn;

-- A spot check as the inspector recorded it. items holds every checklist
-- item ({code, passed, note}); failed_items repeats the failed codes for
-- open data and scoring. firm_uscc is the firm maintaining the lift on the
-- day. One check per lift, inspector and day: a re-uploaded file is a no-op.
CREATE TABLE spotcheck_results (
    id              bigserial PRIMARY KEY,
    plan_id         bigint REFERENCES spotcheck_plans,
    lift_code       text NOT NULL REFERENCES lifts,
    firm_uscc       text NOT NULL REFERENCES firms,
    inspector_id    bigint NOT NULL REFERENCES users,
    checked_on      date NOT NULL,
    minutes_on_site integer NOT NULL CHECK (minutes_on_site BETWEEN 1 AND 600),
    overall         text NOT NULL CHECK (overall IN ('pass', 'fail')),
    items           jsonb NOT NULL,
    failed_items    text[] NOT NULL DEFAULT '{}',
    source          text NOT NULL DEFAULT 'form' CHECK (source IN ('form', 'upload')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (lift_code, inspector_id, checked_on),
    CHECK (overall = 'fail' OR cardinality(failed_items) = 0)
);
CREATE INDEX spotcheck_results_firm_idx ON spotcheck_results (firm_uscc, checked_on);
CREATE INDEX spotcheck_results_checked_idx ON spotcheck_results (checked_on);

-- A failed spot check is evidence in scoring model v3 and can be appealed.
ALTER TABLE score_evidence DROP CONSTRAINT score_evidence_record_kind_check;
ALTER TABLE score_evidence ADD CONSTRAINT score_evidence_record_kind_check
    CHECK (record_kind IN ('maintenance', 'inspection', 'event', 'entrapment', 'report', 'penalty', 'lift', 'episode', 'firm', 'spot_check'));
ALTER TABLE appeals DROP CONSTRAINT appeals_record_kind_check;
ALTER TABLE appeals ADD CONSTRAINT appeals_record_kind_check
    CHECK (record_kind IN ('maintenance', 'inspection', 'event', 'entrapment', 'report', 'penalty', 'lift', 'episode', 'spot_check'));
