-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Two persons join random companies in one transaction (rule B1).
\set c1 random(1, :companies)
\set c2 random(1, :companies)
BEGIN;
INSERT INTO crm.person (company_id, name) VALUES (:c1, 'new');
INSERT INTO crm.person (company_id, name) VALUES (:c2, 'new');
COMMIT;
