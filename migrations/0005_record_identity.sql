-- Records nobody can erase or alter silently (docs/mqtt.md, "Who may say
-- what" and "Record identity").
--
-- 1. A record's identity is (filer, id): the same id from two firms (or two
--    agencies) is two records. Before, the id alone was the key and
--    INSERT ... ON CONFLICT DO NOTHING skipped a second firm's record
--    without a word, so one firm could erase another's by filing its id
--    first. Scoring and pages read records per firm or per lift and never
--    join on the id alone.
ALTER TABLE maintenance_records DROP CONSTRAINT maintenance_records_pkey;
ALTER TABLE maintenance_records ADD PRIMARY KEY (firm_uscc, id);
ALTER TABLE inspections DROP CONSTRAINT inspections_pkey;
ALTER TABLE inspections ADD PRIMARY KEY (agency_uscc, id);

-- 2. The technician registry carries the dates a technician works for the
--    firm, so a record is checked against who employed them at the visit's
--    time. Rows registered before dates were kept (and inserts that give
--    none) count from 2000, long before any record we keep.
ALTER TABLE technicians
    ADD COLUMN employed_from  date NOT NULL DEFAULT DATE '2000-01-01',
    ADD COLUMN employed_until date,
    ADD CHECK (employed_until IS NULL OR employed_until > employed_from);

-- 3. Dead letters: a retained message that is refused is kept once, not
--    once per reconnect (the broker re-sends retained messages to every
--    new subscription, flagged retained; the first delivery to a live
--    subscriber is not flagged). Every dead letter carries the SHA-256 of
--    its payload, and a retained one is stored only when none with the
--    same topic and payload is there.
ALTER TABLE dead_letters
    ADD COLUMN retained       boolean NOT NULL DEFAULT false,
    ADD COLUMN payload_sha256 bytea;
CREATE INDEX dead_letters_payload_idx ON dead_letters (payload_sha256);

-- 4. What a fault code means lives in package fleet (FaultCode.Valid,
--    CountsTowardReliability, IsEntrapment, IsAlarm). The CHECK below stays
--    as a mirror of FaultCode.Valid, so a row that bypasses the application
--    is refused too; a new code changes fleet and this constraint in one
--    migration.
COMMENT ON CONSTRAINT events_code_check ON events IS
    'mirrors fleet.FaultCode.Valid (codes 1-11 and 90); change both together';
