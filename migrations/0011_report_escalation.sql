-- The inspectors' report desk (/inspector/reports): an inspector may
-- escalate a passenger report (the regulator takes it up; the firm's
-- clock runs on) or close it with a note (the firm's clock stops at
-- closed_at, as scoring already reads it). Who did it is in audit_log;
-- the columns say what the page shows.
ALTER TABLE reports
    ADD COLUMN escalated_at   timestamptz,
    ADD COLUMN inspector_note text NOT NULL DEFAULT '' CHECK (length(inspector_note) <= 2000);
