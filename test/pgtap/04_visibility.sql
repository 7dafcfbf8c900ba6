-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- When a status turns visible or hidden: rule B2 (the default, or the
-- retained status under lead_mgmt.reentry = restore) and rule B3 (nothing
-- changes on hide), each by the three ways: the company's category changes,
-- an administrator changes a category, or the person moves.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(58);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'fixture: manage crm.company and crm.person');

INSERT INTO lead_mgmt.category (key, name, category_group, rank) VALUES ('prospect', 'Prospect', 'other', 10);
INSERT INTO crm.company (id, name, category) VALUES
    (1, 'Acme', 'lead'), (2, 'Bolt', 'lead'), (3, 'Cargo', 'mql'), (4, 'Dyn', 'lead'),
    (5, 'Echo', 'customer'), (6, 'Fjord', 'opportunity'), (7, 'Gamma', 'prospect');
INSERT INTO crm.person (id, company_id, name) VALUES
    (1, 1, 'Ada'), (2, 1, 'Alan'),
    (3, 2, 'Barbara'), (4, 2, 'Brian'),
    (5, 3, 'Charles'),
    (6, 4, 'Dennis'),
    (7, 5, 'Edsger'),
    (8, 6, 'Frances'),
    (9, 7, 'Grace'),
    (10, NULL, 'Hedy');
UPDATE crm.person SET lead_status = 'contacting' WHERE id IN (1, 3);
UPDATE crm.person SET lead_status = 'qualified' WHERE id IN (2, 5);

CREATE FUNCTION pg_temp.persons() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s', id, company_id, coalesce(lead_status, '-')), ' ' ORDER BY id)
      FROM crm.person
$$;
CREATE FUNCTION pg_temp.statuses(int[]) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(coalesce(lead_status, '-') ORDER BY id) FROM crm.person WHERE id = ANY ($1)
$$;

SELECT is(current_setting('lead_mgmt.reentry'), 'reset', 'lead_mgmt.reentry defaults to reset');
SELECT throws_ok($$SET lead_mgmt.reentry = 'keep'$$, '22023', NULL, 'lead_mgmt.reentry accepts reset and restore only');

------------------------------------------------------------------------------
-- By the company's category
------------------------------------------------------------------------------

SELECT lives_ok($$UPDATE crm.company SET category = 'mql' WHERE id = 1$$, 'Acme: lead -> mql');
SELECT is(pg_temp.statuses('{1,2}'), '{contacting,qualified}',
    'rule B2: moving between two lead-enabled categories changes nothing');

SELECT pg_temp.persons() AS before \gset
SELECT lives_ok($$UPDATE crm.company SET category = 'customer' WHERE id = 1$$, 'Acme: mql -> customer');
SELECT is(pg_temp.persons(), :'before', 'rule B3: no status changes when the company becomes a customer');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 1$$,
    '23L01', NULL, 'rule B3: the retained status is hidden (not editable)');
SELECT lives_ok($$UPDATE crm.company SET category = 'partner' WHERE id = 1$$, 'Acme: customer -> partner');
SELECT lives_ok($$UPDATE crm.company SET category = NULL WHERE id = 1$$, 'Acme: partner -> no category');
SELECT is(pg_temp.persons(), :'before', 'rule B3: moving between categories that are not lead-enabled changes nothing');

SELECT lives_ok($$UPDATE crm.company SET category = 'lead' WHERE id = 1$$, 'Acme: no category -> lead');
SELECT is(pg_temp.statuses('{1,2}'), '{open,open}',
    'rule B2 (reset): every person of the company gets the default status');
SELECT is(pg_temp.statuses('{3,4,5,6,7,8,9,10}'), '{contacting,open,qualified,open,-,-,-,-}',
    'rule B2: persons of other companies are untouched');

SET lead_mgmt.reentry = restore;
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 3;
SELECT lives_ok($$UPDATE crm.company SET category = 'lost_opportunity' WHERE id = 2$$, 'Bolt: lead -> lost opportunity');
INSERT INTO crm.person (id, company_id, name) VALUES (11, 2, 'Bjarne');
SELECT is(pg_temp.statuses('{3,4,11}'), '{disqualified,open,-}',
    'rule B3: statuses retained; a person added while hidden has none');
SELECT lives_ok($$UPDATE crm.company SET category = 'mql' WHERE id = 2$$, 'Bolt: lost opportunity -> mql');
SELECT is(pg_temp.statuses('{3,4,11}'), '{disqualified,open,open}',
    'rule B2 (restore): retained statuses come back, the empty one gets the default');
RESET lead_mgmt.reentry;

------------------------------------------------------------------------------
-- By an administrator changing a category
------------------------------------------------------------------------------

-- Fjord (opportunity): Frances has no status; Dyn (lead): Dennis has 'open'
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 6;
UPDATE crm.company SET category = 'opportunity' WHERE id = 4;   -- Dennis: qualified, retained
SELECT pg_temp.persons() AS before \gset
SELECT lives_ok($$UPDATE lead_mgmt.category SET name = 'Sales opportunity', rank = 30 WHERE key = 'opportunity'$$,
    'an administrator renames opportunity');
SELECT is(pg_temp.persons(), :'before', 'rule B2: a rename is not a change of visibility');
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity'$$,
    'an administrator enables lead status on opportunity');
SELECT is(pg_temp.statuses('{6,8}'), '{open,open}',
    'rule B2 (reset): persons of every opportunity company get the default');
SELECT is(pg_temp.statuses('{1,2,3,4,5,7,9,10,11}'), '{open,open,disqualified,open,qualified,-,-,-,open}',
    'rule B2: persons of other categories are untouched');

UPDATE crm.person SET lead_status = 'contacting' WHERE id = 6;
SELECT pg_temp.persons() AS before \gset
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity'$$,
    'an administrator disables lead status on opportunity');
SELECT is(pg_temp.persons(), :'before', 'rule B3: disabling the flag changes no status');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 6$$,
    '23L01', NULL, 'rule B3: the statuses are hidden now');

SET lead_mgmt.reentry = restore;
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
SELECT is(pg_temp.statuses('{6,8}'), '{contacting,open}',
    'rule B2 (restore): re-enabling brings the retained status back');
RESET lead_mgmt.reentry;

SELECT pg_temp.persons() AS before \gset
SELECT lives_ok($$UPDATE lead_mgmt.category SET category_group = 'lost', enable_lead_status = false WHERE key = 'opportunity'$$,
    'an administrator moves opportunity to group lost');
SELECT is(pg_temp.persons(), :'before', 'rule B3: a change of group changes no status');

-- Gamma (prospect, group other): Grace
UPDATE lead_mgmt.category SET category_group = 'customer' WHERE key = 'prospect';
SELECT is(pg_temp.statuses('{9}'), '{-}', 'rule B2: a move between groups that are not lead-enabled gives nothing');
SELECT lives_ok($$UPDATE lead_mgmt.category SET category_group = 'potential_customer' WHERE key = 'prospect'$$,
    'prospect moves to potential_customer with lead status still off');
SELECT is(pg_temp.statuses('{9}'), '{-}', 'rule B2: potential_customer without the flag is not lead-enabled');
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'prospect'$$,
    'and then gets lead status');
SELECT is(pg_temp.statuses('{9}'), '{open}', 'rule B2: persons of the now lead-enabled category get the default');
UPDATE lead_mgmt.category SET category_group = 'other', enable_lead_status = false WHERE key = 'prospect';
UPDATE crm.person SET name = 'Grace H.' WHERE id = 9;
SELECT lives_ok($$UPDATE lead_mgmt.category SET category_group = 'potential_customer', enable_lead_status = true
                   WHERE key = 'prospect'$$,
    'group and flag change in one statement');
SELECT is(pg_temp.statuses('{9}'), '{open}', 'rule B2 (reset): the retained default stays the default');

UPDATE crm.person SET lead_status = 'qualified' WHERE id = 9;
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'prospect';
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'prospect'$$,
    'prospect lead status off and on again');
SELECT is(pg_temp.statuses('{9}'), '{open}', 'rule B2 (reset): a retained status is replaced by the default');

-- the flag of a category nobody holds
SELECT pg_temp.persons() AS before \gset
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'lost_opportunity'$$,
    'rule B2: enabling a category without companies');
SELECT is(pg_temp.persons(), :'before', 'rule B2: and no person changes');

------------------------------------------------------------------------------
-- By the person moving
------------------------------------------------------------------------------

-- Echo is a customer; Edsger holds nothing, Charles (Cargo, mql) holds qualified
UPDATE crm.person SET company_id = 5 WHERE id = 5;      -- Charles: qualified, retained at Echo
SELECT is(pg_temp.statuses('{5}'), '{qualified}', 'rule B3: moving into a customer keeps the status');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 5$$,
    '23L01', NULL, 'rule B3: hidden after the move');

SELECT lives_ok($$UPDATE crm.person SET company_id = 1 WHERE id = 5$$, 'Charles moves from Echo (customer) to Acme (lead)');
SELECT is(pg_temp.statuses('{5}'), '{open}', 'rule B2 (reset): the default replaces the retained status');
SELECT lives_ok($$UPDATE crm.person SET company_id = 3 WHERE id = 5$$, 'Charles moves on from Acme to Cargo (both lead-enabled)');
SELECT is(pg_temp.statuses('{5}'), '{open}', 'rule B2: unchanged between lead-enabled companies');
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 5;
SELECT lives_ok($$UPDATE crm.person SET company_id = 1 WHERE id = 5$$, 'Charles moves back to Acme');
SELECT is(pg_temp.statuses('{5}'), '{contacting}', 'rule B2 (reset): a status is kept between lead-enabled companies');

SELECT lives_ok($$UPDATE crm.person SET company_id = NULL WHERE id = 5$$, 'Charles leaves Acme for no company');
SELECT is(pg_temp.statuses('{5}'), '{contacting}', 'rule B3: leaving for no company keeps the status');
SELECT lives_ok($$UPDATE crm.person SET company_id = 3 WHERE id = 5$$, 'Charles joins Cargo from no company');
SELECT is(pg_temp.statuses('{5}'), '{open}', 'rule B2 (reset): joining from no company gives the default');
SELECT lives_ok($$UPDATE crm.person SET company_id = 1 WHERE id = 10$$, 'Hedy (no company, no status) joins Acme');
SELECT is(pg_temp.statuses('{10}'), '{open}', 'rule B2: an empty status gets the default');
SELECT lives_ok($$UPDATE crm.person SET company_id = 6 WHERE id = 7$$, 'Edsger moves from a customer to another hidden company');
SELECT is(pg_temp.statuses('{7}'), '{-}', 'rule B2: no status between companies that are not lead-enabled');

SET lead_mgmt.reentry = restore;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 5;
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 10;
UPDATE crm.person SET company_id = 5 WHERE id IN (5, 10);          -- both to Echo (customer)
UPDATE crm.person SET company_id = NULL WHERE id = 10;              -- Hedy on to no company
SELECT lives_ok($$UPDATE crm.person SET company_id = 3 WHERE id IN (5, 7, 10)$$,
    'Charles (Echo), Edsger (Fjord, empty) and Hedy (no company) join Cargo in one statement');
SELECT is(pg_temp.statuses('{5,7,10}'), '{qualified,open,disqualified}',
    'rule B2 (restore) and B4: each gets back their own retained status, the empty one the default');
RESET lead_mgmt.reentry;

SELECT * FROM finish();
ROLLBACK;
