-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- lead_mgmt.distribute() on a server without Citus (SPEC section 11): a
-- clear refusal, and nothing changed.  The Citus suite (test/citus/) runs
-- it on a real cluster.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(7);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id bigint PRIMARY KEY, name text);
CREATE TABLE crm.person (company_id bigint NOT NULL REFERENCES crm.company (id), id bigint NOT NULL,
                         name text, PRIMARY KEY (company_id, id));
SELECT lead_mgmt.manage('crm.company', 'crm.person');

SELECT throws_ok('SELECT lead_mgmt.distribute()', '55000',
                 'lead_mgmt.distribute() needs Citus, and extension citus is not installed in database ' || current_database(),
                 'without Citus: refused, naming the database');
SELECT throws_ok('SELECT lead_mgmt.distribute(-1)', '22023', 'shard_count -1 is out of range',
                 'a negative shard count is refused first');
SELECT is(lead_mgmt.is_distributed('crm.person'), false, 'is_distributed() is false without Citus');
SELECT is((SELECT count(*)::int FROM pg_constraint WHERE contype = 'f'
            AND conrelid IN ('crm.person'::regclass, 'crm.company'::regclass)), 3,
          'the foreign keys are untouched');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'crm.person'::regclass AND tgname LIKE 'lead_mgmt_%'),
          4, 'the triggers are untouched');

-- who may call it
SELECT ok(NOT has_function_privilege('public', 'lead_mgmt.distribute(integer)', 'EXECUTE'),
          'PUBLIC may not execute distribute()');
INSERT INTO crm.company VALUES (1, 'one', 'lead');
INSERT INTO crm.person (company_id, id) VALUES (1, 1);
SELECT is((SELECT lead_status FROM crm.person), 'open', 'the rules still work on a single server');

SELECT * FROM finish();
ROLLBACK;
