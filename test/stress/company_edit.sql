-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- A company form is saved: its other columns first, then its category, in
-- one transaction.
\set cid random(1, :companies)
\set k random(1, 7)
BEGIN;
UPDATE crm.company SET updated_at = now() WHERE id = :cid;
UPDATE crm.company
   SET category = (ARRAY['lead', 'mql', 'opportunity', 'lost_opportunity', 'customer', 'partner', 'prospect'])[:k]
 WHERE id = :cid;
COMMIT;
