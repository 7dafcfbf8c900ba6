-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- ALTER TABLE on the managed tables between statements: unrelated columns
-- dropped, added, re-added, retyped and renamed, table rewrites; the rules
-- keep working.  Renaming a managed column is reported, not guessed.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(39);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL, region text);
CREATE TABLE crm.person (id int PRIMARY KEY, name text NOT NULL, email text, company_id int REFERENCES crm.company,
    notes text);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'fixture: manage crm.company and crm.person');
INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'customer'), (3, 'Cargo', 'opportunity');
INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('custom', 'Custom', 9);

CREATE FUNCTION pg_temp.persons() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s', id, company_id, coalesce(lead_status, '-')), ' ' ORDER BY id)
      FROM crm.person
$$;

-- The rules, run after each change of the tables.  Persons n and n + 1.
CREATE FUNCTION pg_temp.rules_hold(n int, what text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    UPDATE crm.company SET category = 'lead' WHERE id = 1;
    UPDATE crm.company SET category = 'customer' WHERE id = 2;
    UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
    INSERT INTO crm.person (id, name, company_id) VALUES (n, 'P' || n, 1), (n + 1, 'P' || n + 1, 2);
    RETURN NEXT results_eq(format('SELECT id::int, lead_status FROM crm.person WHERE id IN (%s, %s) ORDER BY id', n, n + 1),
        format('VALUES (%s, %L), (%s, NULL)', n, 'open', n + 1), what || ': rule B1');
    RETURN NEXT throws_ok(format('UPDATE crm.person SET lead_status = %L WHERE id = %s', 'qualified', n + 1),
        '23L01', NULL, what || ': rule B5');
    UPDATE crm.person SET lead_status = 'custom' WHERE id = n;
    RETURN NEXT throws_ok($q$DELETE FROM lead_mgmt.lead_status WHERE key = 'custom'$q$,
        '23L08', NULL, what || ': a status in use cannot be hard-deleted');
    UPDATE crm.company SET category = 'mql' WHERE id = 2;
    RETURN NEXT results_eq(format('SELECT lead_status FROM crm.person WHERE id = %s', n + 1), ARRAY['open'],
        what || ': rule B2 when the company becomes lead-enabled');
    UPDATE crm.person SET company_id = 3 WHERE id = n;
    UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
    RETURN NEXT results_eq(format('SELECT lead_status FROM crm.person WHERE id = %s', n), ARRAY['open'],
        what || ': rule B2 when the administrator enables the category');
    UPDATE crm.person SET lead_status = 'custom' WHERE id = n;
END
$$;

SELECT * FROM pg_temp.rules_hold(10, 'as created');

ALTER TABLE crm.person DROP COLUMN name;
ALTER TABLE crm.person ADD COLUMN name text NOT NULL DEFAULT 'unnamed';
ALTER TABLE crm.person ADD COLUMN phone text;
SELECT * FROM pg_temp.rules_hold(20, 'person: column before company_id dropped, columns added');

ALTER TABLE crm.person DROP COLUMN email, DROP COLUMN notes;
ALTER TABLE crm.person ADD COLUMN email text, ADD COLUMN score int DEFAULT 0;
SELECT * FROM pg_temp.rules_hold(30, 'person: columns dropped and re-added');

ALTER TABLE crm.company DROP COLUMN region;
ALTER TABLE crm.company ADD COLUMN website text, ADD COLUMN founded date;
ALTER TABLE crm.company DROP COLUMN name;
SELECT * FROM pg_temp.rules_hold(40, 'company: columns dropped and added');

ALTER TABLE crm.person ALTER COLUMN phone TYPE varchar(40);
ALTER TABLE crm.company ALTER COLUMN website TYPE varchar(200);
ALTER TABLE crm.person RENAME COLUMN phone TO mobile;
SELECT * FROM pg_temp.rules_hold(50, 'both tables rewritten, a column renamed');

ALTER TABLE crm.person ALTER COLUMN id TYPE bigint;
CREATE INDEX ON crm.person (lead_status);
SELECT * FROM pg_temp.rules_hold(60, 'person key retyped, index added');

-- a managed column renamed
SELECT pg_temp.persons() AS before \gset
ALTER TABLE crm.person RENAME COLUMN lead_status TO stage;
SELECT throws_ok($$INSERT INTO crm.person (id, company_id) VALUES (70, 1)$$, '42703', NULL,
    'a renamed lead_status column is reported, not guessed');
SELECT throws_ok($$UPDATE crm.company SET category = 'customer' WHERE id = 1$$, '42703', NULL,
    'also on a category change');
ALTER TABLE crm.person RENAME COLUMN stage TO lead_status;
SELECT is(pg_temp.persons(), :'before', 'the refused statements changed nothing');
SELECT * FROM pg_temp.rules_hold(70, 'managed column renamed back');

SELECT * FROM finish();
ROLLBACK;
