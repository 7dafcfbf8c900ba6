-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- lead_mgmt.distribute() refusals on a Citus coordinator whose tables are
-- not ready (a database of its own, no workers).
SET client_min_messages = warning;
SELECT plan(5);

SELECT throws_ok('SELECT lead_mgmt.distribute()', '55000', 'lead_mgmt manages no tables',
                 'nothing managed: refused, with a hint to manage() first');

CREATE SCHEMA crm;
CREATE TABLE crm.company (id bigint PRIMARY KEY, name text);
CREATE TABLE crm.person (id bigint PRIMARY KEY, company_id bigint REFERENCES crm.company (id), name text);
SELECT lead_mgmt.manage('crm.company', 'crm.person');
SELECT throws_ok('SELECT lead_mgmt.distribute()', '42P16',
                 'the primary key of person table crm.person does not contain its company column "company_id"',
                 'a person key without the company column: refused, naming the table and column');
SELECT is((SELECT count(*)::int FROM pg_dist_partition), 0, 'and nothing was distributed');
SELECT is((SELECT count(*)::int FROM pg_constraint WHERE contype = 'f'
            AND conrelid IN ('crm.person'::regclass, 'crm.company'::regclass)), 3,
          'the foreign keys are all still there');
SELECT throws_ok('SELECT lead_mgmt.distribute(64001)', '22023', 'shard_count 64001 is out of range',
                 'a shard count above 64000 is refused');

SELECT * FROM finish();
