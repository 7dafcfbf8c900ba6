-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Catalog edits take effect at once in the same session and transaction:
-- new, deleted and restored statuses and categories, a moved default,
-- toggled flags and transition rules; edits rolled back to a savepoint are
-- forgotten.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(33);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'fixture: manage crm.company and crm.person');
INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'opportunity'), (3, 'Cargo', 'customer');
INSERT INTO crm.person (id, company_id, name) VALUES (1, 1, 'Ada'), (2, 1, 'Alan'), (3, 2, 'Barbara'), (4, 3, 'Charles');
-- every cache is warm now: statuses, categories, companies
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2;

------------------------------------------------------------------------------
-- statuses
------------------------------------------------------------------------------

INSERT INTO lead_mgmt.lead_status (key, name, kind, rank) VALUES ('meeting', 'Meeting booked', 'working', 6);
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'meeting' WHERE id = 1$$,
    'a status added in this transaction can be set at once');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 1', ARRAY['meeting'], 'and is stored');

UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'contacting';
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$,
    '23L03', NULL, 'rule B6: a status deleted a moment ago is refused at once');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id IN (1, 2) ORDER BY id',
    $$VALUES (1, 'meeting'), (2, 'contacting')$$, 'rule B6: nothing changed, the holder keeps it');
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'contacting';
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$,
    'a status restored a moment ago is accepted at once');

UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'meeting';
INSERT INTO crm.person (id, company_id, name) VALUES (5, 1, 'Dora');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 5', ARRAY['meeting'],
    'rule B1: the default moved a moment ago is given on insert');
UPDATE crm.company SET category = 'lead' WHERE id = 3;
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 4', ARRAY['meeting'],
    'rule B2: the new default is given on entry');
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open';
UPDATE crm.company SET category = 'customer' WHERE id = 3;

SELECT throws_ok($$UPDATE crm.person SET lead_status = 'demo_done' WHERE id = 1$$,
    '23503', NULL, 'a status not yet added is unknown');
INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('demo_done', 'Demo done', 7);
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'demo_done' WHERE id = 1$$,
    'the same statement succeeds right after the status is added');

------------------------------------------------------------------------------
-- categories
------------------------------------------------------------------------------

UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
INSERT INTO crm.person (id, company_id, name) VALUES (6, 2, 'Brian');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE company_id = 2 ORDER BY id',
    $$VALUES (3, 'open'), (6, 'open')$$,
    'rules B2 and B1: after enabling lead status on opportunity, existing and new persons have the default');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 6$$,
    'rule B5: the status of a person of Bolt is editable at once');
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
INSERT INTO crm.person (id, company_id, name) VALUES (7, 2, 'Bea');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 7', ARRAY[NULL::text],
    'rule B1: after disabling it again, a new person of Bolt gets no status');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 6$$,
    '23L01', NULL, 'rule B5: and statuses of Bolt are hidden at once');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (8, 2, 'Ben', 'open')$$,
    '23L01', NULL, 'rule B5: also on insert');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE company_id = 2 ORDER BY id',
    $$VALUES (3, 'open'), (6, 'qualified'), (7, NULL)$$, 'rule B5: the refused statements changed nothing');

INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status, rank)
    VALUES ('webinar', 'Webinar lead', 'potential_customer', true, 7);
SELECT lives_ok($$INSERT INTO crm.company (id, name, category) VALUES (4, 'Dyn', 'webinar')$$,
    'a category added in this transaction is accepted at once');
INSERT INTO crm.person (id, company_id, name) VALUES (9, 4, 'Dennis');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 9', ARRAY['open'],
    'rule B1: and is lead-enabled at once');
UPDATE lead_mgmt.category SET deleted = true WHERE key = 'webinar';
SELECT throws_ok($$INSERT INTO crm.company (id, name, category) VALUES (5, 'Echo', 'webinar')$$,
    '23L03', NULL, 'a category deleted a moment ago is refused at once');
SELECT is_empty('SELECT 1 FROM crm.company WHERE id = 5', 'and nothing was inserted');

------------------------------------------------------------------------------
-- transition rules
------------------------------------------------------------------------------

UPDATE crm.person SET lead_status = 'open' WHERE id = 1;
INSERT INTO lead_mgmt.status_transition VALUES ('open', 'contacting');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1$$,
    '23L04', NULL, 'rule S2: a transition rule added a moment ago is enforced at once');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 1', ARRAY['open'], 'rule S2: nothing changed');
DELETE FROM lead_mgmt.status_transition;
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1$$,
    'rule S2: and lifted at once when removed');

------------------------------------------------------------------------------
-- edits rolled back to a savepoint
------------------------------------------------------------------------------

SAVEPOINT edit;
INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('trial_started', 'Trial started', 8);
UPDATE crm.person SET lead_status = 'trial_started' WHERE id = 1;
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
INSERT INTO crm.person (id, company_id, name) VALUES (10, 2, 'Bill');
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'trial_started';
ROLLBACK TO SAVEPOINT edit;
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'trial_started' WHERE id = 1$$,
    '23503', NULL, 'a status added in a rolled-back savepoint is unknown again');
INSERT INTO crm.person (id, company_id, name) VALUES (10, 2, 'Bill'), (11, 1, 'Ann');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id IN (10, 11) ORDER BY id',
    $$VALUES (10, NULL), (11, 'open')$$,
    'rule B1: a flag and a default changed in a rolled-back savepoint are forgotten');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 10$$,
    '23L01', NULL, 'rule B5: opportunity is not lead-enabled after the rollback');

SAVEPOINT edit2;
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'disqualified';
UPDATE lead_mgmt.category SET deleted = true WHERE key = 'mql';
ROLLBACK TO SAVEPOINT edit2;
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 11$$,
    'a status deleted in a rolled-back savepoint is accepted again');
SELECT lives_ok($$UPDATE crm.company SET category = 'mql' WHERE id = 1$$,
    'a category deleted in a rolled-back savepoint is accepted again');

-- a company's category changed in a rolled-back savepoint
SAVEPOINT edit3;
UPDATE crm.company SET category = 'customer' WHERE id = 1;
INSERT INTO crm.person (id, company_id, name) VALUES (12, 1, 'Amy');
ROLLBACK TO SAVEPOINT edit3;
INSERT INTO crm.person (id, company_id, name) VALUES (12, 1, 'Amy');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 12', ARRAY['open'],
    'rule B1: the company is lead-enabled again after the rollback');
SAVEPOINT edit4;
UPDATE crm.company SET category = 'lead' WHERE id = 3;
ROLLBACK TO SAVEPOINT edit4;
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (13, 3, 'Cy', 'open')$$,
    '23L01', NULL, 'rule B5: a category change rolled back leaves the company hidden');
SELECT is_empty('SELECT 1 FROM crm.person WHERE id = 13', 'and nothing was inserted');

------------------------------------------------------------------------------
-- labels edited in this transaction
------------------------------------------------------------------------------

UPDATE lead_mgmt.lead_status SET name = 'New' WHERE key = 'open';
UPDATE lead_mgmt.lead_status_label SET name = 'Ny' WHERE status = 'open' AND language = 'nb';
SELECT is(lead_mgmt.status_name('open'), 'New', 'an edited English name is used at once');
SET lead_mgmt.language = 'nb';
SELECT is(lead_mgmt.status_name('open'), 'Ny', 'an edited Norwegian label is used at once');
RESET lead_mgmt.language;

SELECT * FROM finish();
ROLLBACK;
