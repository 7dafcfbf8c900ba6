-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- A company changes category, to either side (rules B2, B3).
\set cid random(1, :companies)
\set k random(1, 7)
UPDATE crm.company
   SET category = (ARRAY['lead', 'mql', 'opportunity', 'lost_opportunity', 'customer', 'partner', 'prospect'])[:k]
 WHERE id = :cid;
