-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Writes through a worker (Citus syncs its metadata to the workers, so
-- clients may connect to any node): the rules hold for rows on either
-- worker, and a catalog change made on the coordinator is seen here.
SET client_min_messages = warning;
SELECT plan(8);

INSERT INTO crm.company (id, name, category)
SELECT i, 'company ' || i, CASE WHEN i <= 210 THEN 'lead' ELSE 'customer' END
  FROM generate_series(201, 220) i;
INSERT INTO crm.person (company_id, id, name)
SELECT c, p, 'w' || c || '/' || p FROM generate_series(201, 220) c, generate_series(1, 2) p;
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 201 AND 210 AND lead_status = 'open'), 20,
          'B1 through a worker, on both workers');
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 211 AND 220 AND lead_status IS NOT NULL), 0,
          'customers get nothing');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE company_id = 215 AND id = 1$$,
                 '23L01', NULL, 'B5 through a worker');
UPDATE crm.company SET category = 'mql' WHERE id IN (211, 212);
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id IN (211, 212) AND lead_status = 'open'), 4,
          'B2 through a worker');
UPDATE crm.person SET lead_status = 'contacting' WHERE company_id BETWEEN 201 AND 205;
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 201 AND 205 AND lead_status = 'contacting'), 10,
          'a multi-shard UPDATE through a worker');
SELECT is((SELECT count(*)::int FROM lead_mgmt.status_history WHERE company_id BETWEEN 201 AND 205 AND event = 'set'), 10,
          'H1: recorded beside the rows');
SELECT is((SELECT key FROM lead_mgmt.lead_status WHERE is_default), 'open', 'the catalogs read here are the coordinator''s');
SELECT is((SELECT count(*)::int FROM lead_mgmt.verify_history()), 0, 'the history replays');

SELECT * FROM finish();
