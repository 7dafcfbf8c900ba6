-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- An administrator folds the count summary on demand, and now and then
-- recounts it (writers wait for the recount: it locks the tables SHARE).
-- Used by test/crash/run.sh and scripts/soak.
\set r random(1, 10)
BEGIN;
SET LOCAL ROLE lead_mgmt_admin;
\if :r = 1
SELECT lead_mgmt.rebuild_counts();
\else
SELECT lead_mgmt.compact_counts();
\endif
COMMIT;
\sleep 500 ms
