-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- An administrator edits the status catalog: the default moves between Open
-- and Contacting (rule S1: the flag moves; persons given a status from then
-- on get the new default), a stale threshold and a Norwegian label change.
-- Used by test/crash/run.sh and scripts/soak.
\set d random(1, 2)
BEGIN;
SET LOCAL ROLE lead_mgmt_admin;
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = (ARRAY['open', 'contacting'])[:d];
UPDATE lead_mgmt.lead_status SET stale_after_days = 7 * :d WHERE key = 'contacting';
UPDATE lead_mgmt.lead_status_label SET name = 'Kontakter ' || :d WHERE status = 'contacting' AND language = 'nb';
COMMIT;
\sleep 300 ms
