-- When each open dataset last changed, for the ETag and Last-Modified of
-- /open/* (docs/api.md, "Open data").
--
-- A statement-level trigger on every table a dataset reads upserts one row
-- per (dataset, backend): each writing session touches only its own rows,
-- so concurrent writers never wait on each other, and the row commits (or
-- rolls back) with the change itself. A reader takes the version in the
-- same snapshot as the rows it streams, so a tag always names the content
-- sent with it. Statement-level: a COPY of 100,000 rows costs one upsert.
-- Bulk loads run as session_replication_role = replica (the seed) fire no
-- trigger and leave no mark; the seed loads before anything is served.
CREATE TABLE open_data_changes (
    dataset    text NOT NULL CHECK (dataset IN ('lifts', 'firms', 'monthly', 'report')),
    pid        integer NOT NULL,
    changed_at timestamptz NOT NULL,
    changes    bigint NOT NULL,
    PRIMARY KEY (dataset, pid)
);

CREATE FUNCTION open_data_mark() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO open_data_changes (dataset, pid, changed_at, changes)
    SELECT d, pg_backend_pid(), clock_timestamp(), 1 FROM unnest(TG_ARGV) AS d
    ON CONFLICT (dataset, pid) DO UPDATE
        SET changed_at = excluded.changed_at, changes = open_data_changes.changes + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lifts
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('lifts', 'firms', 'monthly', 'report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON use_units
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('lifts');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON firms
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('lifts', 'firms', 'report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON inspections
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('lifts', 'monthly', 'report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scores
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('firms', 'report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lift_contracts
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON maintenance_records
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('monthly', 'report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('monthly', 'report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON entrapments
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('monthly', 'report');
CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reports
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('monthly', 'report');
