-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Rules on single persons: B1 (default on insert), B4 (each person on its
-- own), B5 (status only while visible), B6 (deleted statuses), B7 (the
-- category lives on the company), S2 (transition rules), and the refusals
-- of unknown and empty statuses.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(74);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL, email text);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'fixture: manage crm.company and crm.person');

INSERT INTO crm.company (id, name, category) VALUES
    (1, 'Acme', 'lead'), (2, 'Bolt', 'mql'), (3, 'Cargo', 'customer'),
    (4, 'Dyn', 'opportunity'), (5, 'Echo', NULL), (6, 'Fjord', 'partner');

-- All persons as (id, company, status).
CREATE FUNCTION pg_temp.persons() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s', id, company_id, coalesce(lead_status, '-')), ' ' ORDER BY id)
      FROM crm.person
$$;

------------------------------------------------------------------------------
-- B1
------------------------------------------------------------------------------

INSERT INTO crm.person (id, company_id, name) VALUES (1, 1, 'Ada');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 1', ARRAY['open'],
    'rule B1: a person inserted under a lead-enabled company without status gets the default');
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (2, 1, 'Alan', 'contacting');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 2', ARRAY['contacting'],
    'rule B1: a status given on insert is kept');
INSERT INTO crm.person (id, company_id, name) VALUES (3, 2, 'Barbara'), (4, 3, 'Charles'), (5, 4, 'Dennis'),
    (6, 5, 'Edsger'), (7, NULL, 'Frances'), (8, 6, 'Grace'), (9, 2, 'Hedy');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id BETWEEN 3 AND 9 ORDER BY id',
    $$VALUES (3, 'open'), (4, NULL), (5, NULL), (6, NULL), (7, NULL), (8, NULL), (9, 'open')$$,
    'rule B1: in one multi-row insert only persons of lead-enabled companies get the default');

SELECT lives_ok($$WITH c AS (INSERT INTO crm.company (id, name, category) VALUES (7, 'Gamma', 'lead') RETURNING id)
                  INSERT INTO crm.person (id, company_id, name) SELECT 10, id, 'Ida' FROM c$$,
    'rule B1: company and person inserted in one statement');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 10', ARRAY['open'],
    'rule B1: the person of a company inserted in the same statement gets the default');
SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$WITH c AS (INSERT INTO crm.company (id, name, category) VALUES (8, 'Halo', 'customer') RETURNING id)
                   INSERT INTO crm.person (id, company_id, name, lead_status) SELECT 11, id, 'Jon', 'qualified' FROM c$$,
    '23L01', NULL, 'rule B5: a status for a person of a customer inserted in the same statement is refused');
SELECT is_empty('SELECT 1 FROM crm.company WHERE id = 8', 'rule B5: the refused statement inserted no company');
SELECT is(pg_temp.persons(), :'before', 'rule B5: and no person');

------------------------------------------------------------------------------
-- B4
------------------------------------------------------------------------------

SELECT lives_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3$$, 'rule B4: one person of Bolt qualifies');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE company_id = 2 ORDER BY id',
    $$VALUES (3, 'qualified'), (9, 'open')$$,
    'rule B4: the other person of the same company keeps their own status');
SELECT lives_ok($$UPDATE crm.person SET lead_status = CASE id WHEN 3 THEN 'disqualified' ELSE 'renurture' END
                   WHERE company_id = 2$$,
    'rule B4: one statement gives two persons of one company different statuses');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE company_id = 2 ORDER BY id',
    $$VALUES (3, 'disqualified'), (9, 'renurture')$$, 'rule B4: each keeps their own');
UPDATE crm.person SET lead_status = 'open' WHERE company_id = 2;

------------------------------------------------------------------------------
-- B5
------------------------------------------------------------------------------

UPDATE crm.company SET category = 'customer' WHERE id = 7;   -- Ida's status 'open' is now retained
SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 4$$,
    '23L01', NULL, 'rule B5: no status on a person of a customer');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 5$$,
    '23L01', NULL, 'rule B5: no status on a person of a potential customer whose category has lead status off');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 6$$,
    '23L01', NULL, 'rule B5: no status on a person of a company without category');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 8$$,
    '23L01', NULL, 'rule B5: no status on a person of a partner');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 10$$,
    '23L01', NULL, 'rule B5: a retained status cannot be changed while hidden');
SELECT throws_ok($$UPDATE crm.person SET lead_status = NULL WHERE id = 10$$,
    '23L01', NULL, 'rule B5: a retained status cannot be cleared while hidden');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 7$$,
    '23L02', NULL, 'rule B5: no status on a person without company');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (20, 3, 'Ken', 'open')$$,
    '23L01', NULL, 'rule B5: no status on insert under a customer');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (20, NULL, 'Ken', 'open')$$,
    '23L02', NULL, 'rule B5: no status on insert without company');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE company_id IN (1, 3)$$,
    '23L01', NULL, 'rule B5: a statement that touches one hidden person is refused as a whole');
SELECT throws_ok($$UPDATE crm.person SET company_id = 3, lead_status = 'qualified' WHERE id = 1$$,
    '23L01', NULL, 'rule B5: moving into a customer and setting a status in one statement is refused');
SELECT throws_ok($$UPDATE crm.person SET company_id = NULL, lead_status = 'qualified' WHERE id = 1$$,
    '23L02', NULL, 'rule B5: leaving the company and setting a status in one statement is refused');
SELECT is(pg_temp.persons(), :'before', 'rule B5: the refused statements changed nothing');

SELECT lives_ok($$UPDATE crm.person SET name = 'Charles B.', email = 'cb@example.com' WHERE id = 4$$,
    'rule B5: other columns of a hidden person stay updatable');
SELECT lives_ok($$UPDATE crm.person SET email = 'ida@example.com', lead_status = lead_status WHERE id = 10$$,
    'rule B5: rewriting the unchanged retained status with other columns is accepted');
SELECT lives_ok($$UPDATE crm.person SET name = 'Frances A.', email = 'fa@example.com' WHERE id = 7$$,
    'rule B5: other columns of a person without company stay updatable');
SELECT results_eq('SELECT id, name, email, lead_status FROM crm.person WHERE id IN (4, 7, 10) ORDER BY id',
    $$VALUES (4, 'Charles B.', 'cb@example.com', NULL), (7, 'Frances A.', 'fa@example.com', NULL),
             (10, 'Ida', 'ida@example.com', 'open')$$,
    'rule B5: the other columns changed, the statuses did not');
SELECT lives_ok($$UPDATE crm.person SET company_id = 2, lead_status = 'qualified' WHERE id = 4$$,
    'rule B5: moving into a lead-enabled company and setting a status in one statement is accepted');
SELECT results_eq('SELECT company_id, lead_status FROM crm.person WHERE id = 4', $$VALUES (2, 'qualified')$$,
    'rule B5: the given status is kept, not replaced by the default');

------------------------------------------------------------------------------
-- B7
------------------------------------------------------------------------------

SELECT hasnt_column('crm', 'person', 'category', 'rule B7: persons have no category column');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 5$$,
    '23L01', NULL, 'rule B7: the person of Dyn (opportunity) has a hidden status');
UPDATE crm.company SET category = 'mql' WHERE id = 4;
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 5$$,
    'rule B7: once the company is an MQL, its person''s status is editable');
UPDATE crm.company SET category = 'opportunity' WHERE id = 4;
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 5$$,
    '23L01', NULL, 'rule B7: and hidden again when the company goes back to opportunity');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 5', ARRAY['contacting'],
    'rule B7: the person''s status stayed as it was');

------------------------------------------------------------------------------
-- Unknown and empty statuses, unknown and deleted categories
------------------------------------------------------------------------------

SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'hot' WHERE id = 1$$,
    '23503', NULL, 'an unknown status key is refused');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'Open' WHERE id = 2$$,
    '23503', NULL, 'status keys are case-sensitive');
SELECT throws_ok($$UPDATE crm.person SET lead_status = repeat('x', 200) WHERE id = 2$$,
    '23503', NULL, 'an over-long status is refused as unknown');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (21, 1, 'Lin', 'warm')$$,
    '23503', NULL, 'an unknown status key is refused on insert');
SELECT throws_ok($$UPDATE crm.person SET lead_status = NULL WHERE id = 1$$,
    '23502', NULL, 'a visible status cannot be cleared');
SELECT throws_ok($$UPDATE crm.person SET company_id = 2, lead_status = NULL WHERE id = 1$$,
    '23502', NULL, 'a status cannot be cleared while moving between lead-enabled companies');
SELECT is(pg_temp.persons(), :'before', 'the refused statuses changed nothing');

SELECT throws_ok($$UPDATE crm.company SET category = 'vip' WHERE id = 5$$,
    '23503', NULL, 'an unknown category is refused');
SELECT throws_ok($$INSERT INTO crm.company (id, name, category) VALUES (9, 'Iris', 'Lead')$$,
    '23503', NULL, 'category keys are case-sensitive');
SELECT results_eq('SELECT id, category FROM crm.company WHERE id IN (5, 9)', $$VALUES (5, NULL::text)$$,
    'the refused categories changed nothing');

------------------------------------------------------------------------------
-- B6
------------------------------------------------------------------------------

UPDATE crm.person SET lead_status = 'renurture' WHERE id = 2;
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'renurture';
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 2', ARRAY['renurture'],
    'rule B6: a person who holds a status keeps it when it is deleted');
SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'renurture' WHERE id = 1$$,
    '23L03', NULL, 'rule B6: a deleted status cannot be newly set');
SELECT throws_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (22, 1, 'Mary', 'renurture')$$,
    '23L03', NULL, 'rule B6: a deleted status cannot be given on insert');
SELECT throws_ok($$UPDATE crm.person SET company_id = 2, lead_status = 'renurture' WHERE id = 1$$,
    '23L03', NULL, 'rule B6: a deleted status cannot be given while moving');
SELECT is(pg_temp.persons(), :'before', 'rule B6: the refused statements changed nothing');
SELECT lives_ok($$UPDATE crm.person SET name = 'Alan T.', lead_status = 'renurture' WHERE id = 2$$,
    'rule B6: the holder is updated with the deleted status unchanged');
SELECT lives_ok($$UPDATE crm.person SET company_id = 2 WHERE id = 2$$,
    'rule B6: the holder moves to another lead-enabled company');
SELECT results_eq('SELECT company_id, lead_status FROM crm.person WHERE id = 2', $$VALUES (2, 'renurture')$$,
    'rule B6: and keeps the deleted status');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2$$,
    'rule B6: the holder can move on to another status');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'renurture' WHERE id = 2$$,
    '23L03', NULL, 'rule B6: but not back to the deleted one');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 2', ARRAY['contacting'],
    'rule B6: the refused change back changed nothing');

UPDATE lead_mgmt.category SET deleted = true WHERE key = 'partner';
SELECT throws_ok($$UPDATE crm.company SET category = 'partner' WHERE id = 5$$,
    '23L03', NULL, 'a deleted category cannot be newly given to a company');
SELECT lives_ok($$UPDATE crm.company SET name = 'Fjord AS' WHERE id = 6$$,
    'a company that holds a deleted category stays updatable');
SELECT results_eq('SELECT id, name, category FROM crm.company WHERE id IN (5, 6) ORDER BY id',
    $$VALUES (5, 'Echo', NULL), (6, 'Fjord AS', 'partner')$$,
    'the holder keeps the deleted category; the refused company did not get it');

------------------------------------------------------------------------------
-- S2
------------------------------------------------------------------------------

SELECT lives_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1;
                  UPDATE crm.person SET lead_status = 'open' WHERE id = 1;
                  UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 1;
                  UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1;
                  UPDATE crm.person SET lead_status = 'open' WHERE id = 1$$,
    'rule S2: without transition rules every move is allowed');

INSERT INTO lead_mgmt.status_transition VALUES ('open', 'contacting'), ('open', 'disqualified'),
    ('contacting', 'qualified');
SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1$$,
    '23L04', NULL, 'rule S2: open may not move to qualified once rules exist for open');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 2$$,
    '23L04', NULL, 'rule S2: contacting may only move to qualified');
SELECT throws_ok($$UPDATE crm.person SET company_id = 2, lead_status = 'qualified' WHERE id = 1$$,
    '23L04', NULL, 'rule S2: applies to a move between lead-enabled companies with a new status');
SELECT is(pg_temp.persons(), :'before', 'rule S2: the refused moves changed nothing');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 1$$,
    'rule S2: rewriting the same status is not a move');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$,
    'rule S2: open may move to contacting');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1$$,
    'rule S2: contacting may move to qualified');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'open' WHERE id = 1$$,
    'rule S2: qualified has no rules, every move from it is allowed');
SELECT lives_ok($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (23, 1, 'Niklaus', 'qualified')$$,
    'rule S2: a status given on insert is not a move');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 3$$,
    'rule S2: open may move to disqualified');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id IN (1, 3, 23) ORDER BY id',
    $$VALUES (1, 'open'), (3, 'disqualified'), (23, 'qualified')$$, 'rule S2: the allowed moves are stored');
DELETE FROM lead_mgmt.status_transition WHERE from_status = 'open';
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1$$,
    'rule S2: once the rules for open are removed, open may move anywhere');

SELECT * FROM finish();
ROLLBACK;
