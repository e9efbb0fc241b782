-- The unrounded tallies behind a score, per indicator: {"key": {"bad": .., "exposure": ..}}
-- (exposure as Measure counted it; ratio indicators get theirs from the
-- baseline at scoring time). A one-firm run triggered by an event (an
-- entrapment closed, an inspection failed) reloads the firm's events,
-- inspections and contracts but carries its visit indicators forward from
-- its latest score of the same period, exactly: reading a large firm's
-- maintenance records and telemetry episodes again takes seconds, and
-- those did not change. NULL for runs made before this column existed.
ALTER TABLE scores ADD COLUMN counts jsonb;
