-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- The change sink: every status change of every path goes through it, with
-- its event (SPEC H1's events).  A scripted lifecycle (insert, set, hide by
-- a category change, re-show, moves, a catalog flip in both directions,
-- lead_mgmt.reentry = restore, a rolled-back savepoint and a refused
-- statement) is matched against a hand-written list of what the sink saw,
-- as lead_mgmt.transaction_changes() reports it after each step.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(16);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person');
INSERT INTO crm.company (id, name, category) VALUES
    (1, 'Acme', 'lead'), (2, 'Bolt', 'customer'), (3, 'Cargo', 'lead'), (5, 'Dune', 'opportunity');

-- what the sink recorded in this transaction so far, as one line
CREATE FUNCTION pg_temp.seen() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(event || '=' || persons, ' ' ORDER BY event), '')
      FROM lead_mgmt.transaction_changes()
$$;

SELECT is(pg_temp.seen(), '', 'nothing recorded before the first change');

-- B1: two persons of a lead company get Open; a customer's and a company-less person get nothing
INSERT INTO crm.person (id, company_id, name) VALUES (1, 1, 'Ada'), (2, 1, 'Alan'), (3, 2, 'Bea'), (4, NULL, 'Nils');
SELECT is(pg_temp.seen(), 'created=2', 'insert: created for the two persons of the lead company');

-- a user sets a status
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1;
SELECT is(pg_temp.seen(), 'created=2 set=1', 'status change: set');

-- B3 by a company's category change: both held statuses are hidden
UPDATE crm.company SET category = 'customer' WHERE id = 1;
SELECT is(pg_temp.seen(), 'created=2 set=1 hidden=2', 'company leaves lead: hidden for both persons');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE company_id = 1 ORDER BY id',
    ARRAY['contacting', 'open'], 'hidden statuses are kept');

-- B2 (reset) by a company's category change: Ada's contacting becomes Open
-- (entered), Alan's Open shows again (shown)
UPDATE crm.company SET category = 'mql' WHERE id = 1;
SELECT is(pg_temp.seen(), 'created=2 set=1 entered=1 hidden=2 shown=1',
    'company enters mql: entered for the reset person, shown for the one at the default');

-- moves: into a lead company without status (entered), out of one (hidden)
UPDATE crm.person SET company_id = 3 WHERE id = 3;
UPDATE crm.person SET company_id = 2 WHERE id = 1;
SELECT is(pg_temp.seen(), 'created=2 set=1 entered=2 hidden=3 shown=1',
    'moves: entered for the person moved into a lead company, hidden for the one moved out');

-- moving between two lead-enabled companies records nothing
UPDATE crm.person SET company_id = 1 WHERE id = 3;
SELECT is(pg_temp.seen(), 'created=2 set=1 entered=2 hidden=3 shown=1',
    'a move between lead-enabled companies: nothing');

-- an administrator's catalog flip, both ways
INSERT INTO crm.person (id, company_id, name) VALUES (5, 5, 'Dora');
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
SELECT is(pg_temp.seen(), 'created=2 set=1 entered=3 hidden=3 shown=1',
    'catalog flip on: entered for the person of the opportunity');
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
SELECT is(pg_temp.seen(), 'created=2 set=1 entered=3 hidden=4 shown=1',
    'catalog flip off: hidden');

-- a savepoint rolled back takes its events with it
SAVEPOINT s;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 2;
UPDATE crm.company SET category = 'partner' WHERE id = 3;
ROLLBACK TO SAVEPOINT s;
SELECT is(pg_temp.seen(), 'created=2 set=1 entered=3 hidden=4 shown=1',
    'events of a rolled-back savepoint are gone');

-- ... and a released one keeps them
SAVEPOINT s2;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 2;
RELEASE SAVEPOINT s2;
SELECT is(pg_temp.seen(), 'created=2 set=2 entered=3 hidden=4 shown=1',
    'events of a released savepoint stay');

-- a refused statement records nothing
SAVEPOINT s3;
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'renurture' WHERE id IN (1, 2, 5)$$, '23L01', NULL,
    'a statement that sets statuses on hidden persons is refused');
ROLLBACK TO SAVEPOINT s3;
SELECT is(pg_temp.seen(), 'created=2 set=2 entered=3 hidden=4 shown=1',
    'the refused statement recorded nothing');

-- B2 with lead_mgmt.reentry = restore: held values show again
SET LOCAL lead_mgmt.reentry = restore;
UPDATE crm.company SET category = 'customer' WHERE id = 1;
UPDATE crm.company SET category = 'lead' WHERE id = 1;
SELECT is(pg_temp.seen(), 'created=2 set=2 entered=3 hidden=6 shown=3',
    'restore: hidden, then shown again for Alan and Cid');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE company_id = 1 ORDER BY id',
    $$VALUES (2, 'qualified'), (3, 'open')$$, 'restore: the values came back as they were');

SELECT * FROM finish();
ROLLBACK;
