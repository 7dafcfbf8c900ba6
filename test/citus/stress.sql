-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- One transaction of the Citus pgbench run: companies 1001..1200, their
-- persons inserted, moved between statuses, and the companies' categories
-- changed, by clients on the coordinator and on a worker at once.
\set c random(1001, 1200)
\set p random(1, 20)
\set op random(1, 10)
BEGIN;
INSERT INTO crm.company (id, name, category) VALUES (:c, 'stress ' || :c, 'lead') ON CONFLICT (id) DO NOTHING;
INSERT INTO crm.person (company_id, id, name) VALUES (:c, :p, 'stress') ON CONFLICT (company_id, id) DO NOTHING;
UPDATE crm.person SET lead_status = CASE WHEN :op <= 5 THEN 'contacting' ELSE 'qualified' END
 WHERE company_id = :c AND id = :p
   AND EXISTS (SELECT FROM crm.company k WHERE k.id = :c AND k.category IN ('lead', 'mql'));
UPDATE crm.company SET category = CASE WHEN :op <= 2 THEN 'customer' WHEN :op <= 4 THEN 'mql' ELSE category END
 WHERE id = :c;
END;
