-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- The administrator turns lead status of the prospect category on or off
-- (rules B2, B3 by catalog change), looks the result over before committing,
-- and comes back a moment later.
BEGIN;
SET LOCAL ROLE lead_mgmt_admin;
UPDATE lead_mgmt.category SET enable_lead_status = NOT enable_lead_status WHERE key = 'prospect';
\sleep 50 ms
COMMIT;
\sleep 200 ms
-- ... and merges Re-nurture into Contacting (every holder moves, recorded as
-- merged), restoring Re-nurture in the same transaction so that writers may
-- keep setting it.
BEGIN;
SET LOCAL ROLE lead_mgmt_admin;
SELECT lead_mgmt.merge_status('renurture', 'contacting');
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'renurture';
COMMIT;
\sleep 200 ms
