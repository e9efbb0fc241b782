-- Open data publishes spot-check results (/open/spotchecks.csv|.json,
-- issue 14): their ETag follows spot-check results and firm names, as the
-- other datasets' do (0007_open_data_changes.sql).
ALTER TABLE open_data_changes DROP CONSTRAINT open_data_changes_dataset_check;
ALTER TABLE open_data_changes ADD CONSTRAINT open_data_changes_dataset_check
    CHECK (dataset IN ('lifts', 'firms', 'monthly', 'report', 'spotchecks'));

CREATE TRIGGER open_data_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON spotcheck_results
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('spotchecks');
CREATE TRIGGER open_data_mark_spotchecks AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON firms
    FOR EACH STATEMENT EXECUTE FUNCTION open_data_mark('spotchecks');

-- The dashboard's month page looks up each drawn lift's result.
CREATE INDEX spotcheck_results_plan_idx ON spotcheck_results (plan_id, lift_code) WHERE plan_id IS NOT NULL;
