-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- The same under REPEATABLE READ: serialization failures are retried.
\set c1 random(1, :companies)
\set c2 random(1, :companies)
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO crm.person (company_id, name) VALUES (:c1, 'new rr');
INSERT INTO crm.person (company_id, name) VALUES (:c2, 'new rr');
COMMIT;
