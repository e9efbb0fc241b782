-- The firm's portal.
--
-- An appeal is open for a window (30 days by default) after the run that
-- FIRST charged the record. score_evidence keeps only each firm's two
-- latest runs, so it cannot say when a record was first charged: this
-- table remembers it, one row per record ever charged to a firm.
CREATE TABLE evidence_charges (
    firm_uscc     text NOT NULL REFERENCES firms,
    record_kind   text NOT NULL,
    record_id     text NOT NULL,
    first_run_id  bigint NOT NULL,
    first_charged timestamptz NOT NULL,
    PRIMARY KEY (firm_uscc, record_kind, record_id)
);
INSERT INTO evidence_charges (firm_uscc, record_kind, record_id, first_run_id, first_charged)
    SELECT DISTINCT ON (e.firm_uscc, e.record_kind, e.record_id) e.firm_uscc, e.record_kind, e.record_id, r.id, r.started_at
    FROM score_evidence e JOIN score_runs r ON r.id = e.run_id
    WHERE e.record_kind <> 'firm'
    ORDER BY e.firm_uscc, e.record_kind, e.record_id, r.id;

-- The evidence page: a firm's records of its latest run, biggest loss
-- first, in pages by (points, id) keyset, optionally for one indicator.
-- A city firm has hundreds of thousands of rows; with these the first page
-- reads one page of index entries instead of sorting them all. The
-- indicator index replaces score_evidence_run_idx (its prefix).
CREATE INDEX score_evidence_page_idx ON score_evidence (run_id, firm_uscc, points, id);
CREATE INDEX score_evidence_ind_page_idx ON score_evidence (run_id, firm_uscc, indicator, points, id);
DROP INDEX score_evidence_run_idx;
-- Evidence of one lift (the lift filter and the lift page).
CREATE INDEX score_evidence_lift_idx ON score_evidence (lift_code, run_id) WHERE lift_code IS NOT NULL;
