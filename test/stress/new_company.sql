-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- A new company is saved with its first two contacts in one transaction
-- (rule B1 for persons of a company not yet committed).  Ids come from
-- stress.new_company (stress_setup in lib.sh).  Used by test/crash/run.sh
-- and scripts/soak.
\set k random(1, 7)
BEGIN;
INSERT INTO crm.company (id, name, category)
VALUES (nextval('stress.new_company'), 'new company',
        (ARRAY['lead', 'mql', 'opportunity', 'lost_opportunity', 'customer', 'partner', 'prospect'])[:k]);
INSERT INTO crm.person (company_id, name)
VALUES (currval('stress.new_company'), 'first'), (currval('stress.new_company'), 'second');
COMMIT;
