-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Rule X1: lead_mgmt.enforce = off lets a superuser or a member of
-- lead_mgmt_admin load data without the rules; ordinary roles cannot turn
-- it off, and the rules are back in force after RESET.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(32);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'fixture: manage crm.company and crm.person');
INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'customer'), (3, 'Cargo', 'customer');
INSERT INTO crm.person (id, company_id, name) VALUES (1, 1, 'Ada'), (2, 2, 'Barbara');

CREATE ROLE lm_tap_x1_importer IN ROLE lead_mgmt_admin;
CREATE ROLE lm_tap_x1_clerk;
GRANT USAGE ON SCHEMA crm TO lm_tap_x1_importer, lm_tap_x1_clerk;
GRANT SELECT, INSERT, UPDATE ON crm.company, crm.person TO lm_tap_x1_importer, lm_tap_x1_clerk;

CREATE FUNCTION pg_temp.persons() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s', id, company_id, coalesce(lead_status, '-')), ' ' ORDER BY id)
      FROM crm.person
$$;

SELECT is(current_setting('lead_mgmt.enforce'), 'on', 'rule X1: lead_mgmt.enforce is on by default');

------------------------------------------------------------------------------
-- Superuser
------------------------------------------------------------------------------

SELECT lives_ok('SET lead_mgmt.enforce = off', 'rule X1: a superuser turns the rules off');
SELECT lives_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (3, 2, 'Brian', 'qualified')$$,
    'rule X1: a retained status is loaded on a customer''s person');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 2$$,
    'rule X1: a status is set on a hidden person');
SELECT lives_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (4, NULL, 'Carl', 'renurture')$$,
    'rule X1: a status is loaded on a person without company');
SELECT lives_ok($$INSERT INTO crm.person (id, company_id, name) VALUES (5, 1, 'Dora')$$,
    'rule X1: a person of a lead company is loaded as it is');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id BETWEEN 2 AND 5 ORDER BY id',
    $$VALUES (2, 'disqualified'), (3, 'qualified'), (4, 'renurture'), (5, NULL)$$,
    'rule X1: the loaded values are stored as given, without the default');
RESET lead_mgmt.enforce;

SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 3$$,
    '23L01', NULL, 'rule X1: after RESET, the hidden status is refused again (B5)');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (6, 3, 'Eve', 'qualified')$$,
    '23L01', NULL, 'rule X1: after RESET, a status on insert under a customer is refused again');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (6, NULL, 'Eve', 'qualified')$$,
    '23L02', NULL, 'rule X1: after RESET, a status without company is refused again');
SELECT is(pg_temp.persons(), :'before', 'rule X1: the refused statements changed nothing');
SELECT lives_ok($$INSERT INTO crm.person (id, company_id, name) VALUES (6, 1, 'Eve')$$, 'insert under Acme after RESET');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 6', ARRAY['open'], 'rule X1: after RESET, B1 applies again');

-- Company rows changed while the rules were off are judged by what they
-- hold now, even if this transaction looked at them before.
SET lead_mgmt.enforce = off;
UPDATE crm.company SET category = 'customer' WHERE id = 1;   -- Acme, looked up above
UPDATE crm.company SET category = 'mql' WHERE id = 3;        -- Cargo, looked up above
RESET lead_mgmt.enforce;
SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (7, 1, 'Fred', 'qualified')$$,
    '23L01', NULL, 'rule X1: after RESET, a company made a customer meanwhile refuses statuses');
SELECT is(pg_temp.persons(), :'before', 'rule X1: the refused insert changed nothing');
INSERT INTO crm.person (id, company_id, name) VALUES (8, 1, 'Gina'), (9, 3, 'Hal');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id IN (8, 9) ORDER BY id',
    $$VALUES (8, NULL), (9, 'open')$$,
    'rule X1: after RESET, B1 follows the categories set while the rules were off');

------------------------------------------------------------------------------
-- lead_mgmt_admin
------------------------------------------------------------------------------

SET ROLE lm_tap_x1_importer;
SELECT lives_ok('SET lead_mgmt.enforce = off', 'rule X1: a member of lead_mgmt_admin turns the rules off');
SELECT lives_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (10, 2, 'Ivy', 'contacting')$$,
    'rule X1: lead_mgmt_admin loads a retained status on a customer''s person');
RESET lead_mgmt.enforce;
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 10$$,
    '23L01', NULL, 'rule X1: the rules apply to lead_mgmt_admin again after RESET');
RESET ROLE;
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 10', ARRAY['contacting'],
    'rule X1: the loaded status is stored, the refused change is not');

------------------------------------------------------------------------------
-- Ordinary roles
------------------------------------------------------------------------------

SELECT pg_temp.persons() AS before \gset
SET ROLE lm_tap_x1_clerk;
SELECT throws_ok('SET lead_mgmt.enforce = off', '42501', NULL, 'rule X1: an ordinary role cannot turn the rules off');
SELECT throws_ok('SET LOCAL lead_mgmt.enforce = off', '42501', NULL, 'rule X1: not even for the transaction');
SELECT throws_ok($$SELECT set_config('lead_mgmt.enforce', 'off', false)$$, '42501', NULL,
    'rule X1: not through set_config()');
SELECT is(current_setting('lead_mgmt.enforce'), 'on', 'rule X1: the setting stays on');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (11, 2, 'Jim', 'qualified')$$,
    '23L01', NULL, 'rule X1: the ordinary role is held to the rules');
SELECT lives_ok('SET lead_mgmt.enforce = on', 'rule X1: an ordinary role may set it on');
RESET ROLE;
SELECT is(pg_temp.persons(), :'before', 'rule X1: the ordinary role changed nothing');

-- turned off by a superuser, then used by an ordinary role
SET lead_mgmt.enforce = off;
SET ROLE lm_tap_x1_clerk;
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (11, 2, 'Jim', 'qualified')$$,
    '42501', NULL, 'rule X1: an ordinary role cannot write with the rules off');
SELECT throws_ok($$UPDATE crm.company SET category = 'lead' WHERE id = 2$$,
    '42501', NULL, 'rule X1: not the company table either');
RESET ROLE;
RESET lead_mgmt.enforce;
SELECT is(pg_temp.persons(), :'before', 'rule X1: nothing was written by the ordinary role');
SELECT results_eq('SELECT category FROM crm.company WHERE id = 2', ARRAY['customer'],
    'rule X1: the company kept its category');

SELECT * FROM finish();
ROLLBACK;
