-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Rule A1 (advance_category(), next_category()), rule A2 (category rules:
-- automatic and suggest-only, lead_mgmt.category_suggestions) and
-- merge_status(): what they change, what they record in status history,
-- and every refusal with its SQLSTATE, with nothing changed.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(53);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_auto_clerk') THEN
        CREATE ROLE lm_auto_clerk;
    END IF;
END
$$;

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person');
INSERT INTO crm.company (id, name, category) VALUES
    (1, 'Acme', 'lead'), (2, 'Bolt', 'mql'), (3, 'Cargo', 'customer'), (4, 'Dune', NULL),
    (5, 'Echo', 'partner'), (6, 'Fjord', 'opportunity'), (7, 'Gran', 'lead');
INSERT INTO crm.person (id, company_id, name) VALUES
    (1, 1, 'Ada'), (2, 1, 'Alan'), (3, 2, 'Bea'), (4, 3, 'Cato'), (5, 7, 'Gro');
GRANT USAGE ON SCHEMA crm TO lm_auto_clerk;
GRANT SELECT, UPDATE (lead_status) ON crm.person TO lm_auto_clerk;
GRANT SELECT ON crm.company TO lm_auto_clerk;

CREATE FUNCTION pg_temp.category_of(company int) RETURNS text LANGUAGE sql AS $$
    SELECT category FROM crm.company WHERE id = $1
$$;
CREATE FUNCTION pg_temp.rows(person int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s>%s@%s%s', event, coalesce(from_status, '-'), coalesce(to_status, '-'),
                             coalesce(category, '-'), CASE WHEN visible THEN '' ELSE '(hidden)' END), ' ' ORDER BY seq)
      FROM lead_mgmt.status_history WHERE person_id = $1
$$;

------------------------------------------------------------------------------
-- A1: advance_category(), next_category()
------------------------------------------------------------------------------

SELECT is(lead_mgmt.next_category(1), 'mql', 'next_category(): after lead comes mql (rank order)');
SELECT is(lead_mgmt.next_category(6), 'lost_opportunity', 'next_category(): after opportunity comes lost_opportunity');
SELECT is(lead_mgmt.next_category(4), 'lead', 'next_category(): a company without a category starts at the first');
SELECT is(lead_mgmt.next_category(3), NULL, 'next_category(): a customer has none (not a potential customer)');
SELECT is(lead_mgmt.advance_category(1, 'mql'), true, 'advance_category(): a lead moves to mql');
SELECT is(pg_temp.category_of(1), 'mql', 'advance_category(): the category changed');
SELECT is(lead_mgmt.advance_category(1, 'mql'), false, 'advance_category(): to the category it has: nothing changes');
SELECT is(lead_mgmt.advance_category(3, 'lead'), false, 'rule A1: a customer is never moved back to a lead');
SELECT is(lead_mgmt.advance_category(5, 'lead'), false, 'rule A1: nor is a partner');
SELECT is(pg_temp.category_of(3) || ',' || pg_temp.category_of(5), 'customer,partner', 'rule A1: both unchanged');
SELECT is(lead_mgmt.advance_category(4, 'lead'), true, 'advance_category(): a company without a category may move');
SELECT is(lead_mgmt.advance_category(7, 'customer'), true, 'advance_category(): a lead may move on to customer');
SELECT is(pg_temp.rows(5), 'created:->open@lead hidden:open>open@customer(hidden)',
    'advance_category(): goes through the rules (B3 and history apply)');
SELECT throws_ok($$SELECT lead_mgmt.advance_category(2, 'nope')$$, '23503', 'category "nope" does not exist',
    'advance_category(): an unknown category is refused');
UPDATE lead_mgmt.category SET deleted = true WHERE key = 'lost_opportunity';
SELECT throws_ok($$SELECT lead_mgmt.advance_category(2, 'lost_opportunity')$$, '23L03', 'category "lost_opportunity" is deleted',
    'advance_category(): a deleted category is refused');
UPDATE lead_mgmt.category SET deleted = false WHERE key = 'lost_opportunity';
SELECT throws_ok($$SELECT lead_mgmt.advance_category(99, 'mql')$$, '23503', 'company 99 does not exist',
    'advance_category(): an unknown company is refused');
SELECT throws_ok($$SELECT lead_mgmt.advance_category(NULL, 'mql')$$, '22004', NULL,
    'advance_category(): a NULL company is refused');
SELECT throws_ok($$SELECT lead_mgmt.next_category(99)$$, '23503', 'company 99 does not exist',
    'next_category(): an unknown company is refused');
SELECT is(pg_temp.category_of(2), 'mql', 'the refusals changed nothing');

------------------------------------------------------------------------------
-- A2: category rules
------------------------------------------------------------------------------

-- checked when saved
SELECT throws_ok($$INSERT INTO lead_mgmt.category_rule VALUES ('nope', 'opportunity', true, true)$$, '23503', NULL,
    'a rule on an unknown status is refused');
SELECT throws_ok($$INSERT INTO lead_mgmt.category_rule VALUES ('qualified', 'nope', true, true)$$, '23503', NULL,
    'a rule to an unknown category is refused');
INSERT INTO lead_mgmt.category (key, name, category_group) VALUES ('vendor', 'Vendor', 'other');
SELECT throws_ok($$INSERT INTO lead_mgmt.category_rule VALUES ('qualified', 'vendor', true, true)$$, '23L10',
    'category "vendor" is in group other, which a category rule cannot move a lead to',
    'a rule to a category outside the allowed groups is refused');
UPDATE lead_mgmt.category SET deleted = true WHERE key = 'lost_opportunity';
SELECT throws_ok($$INSERT INTO lead_mgmt.category_rule VALUES ('disqualified', 'lost_opportunity', true, true)$$, '23L03', NULL,
    'a rule to a deleted category is refused');
UPDATE lead_mgmt.category SET deleted = false WHERE key = 'lost_opportunity';
INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('qualified', 'opportunity', true);
SELECT throws_ok($$INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('qualified', 'customer', true)$$,
    '23505', 'lead status "qualified" has an automatic category rule already (to "opportunity")',
    'a second automatic rule for a status is refused');
SELECT is((SELECT count(*) FROM lead_mgmt.category_rule), 1::bigint, 'the refused rules were not saved');
INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('disqualified', 'lost_opportunity', true);
INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('contacting', 'opportunity');
SELECT throws_ok($$SET ROLE lm_auto_clerk; INSERT INTO lead_mgmt.category_rule VALUES ('renurture', 'lead', true, true)$$,
    '42501', NULL, 'only lead_mgmt_admin writes rules');
RESET ROLE;

-- automatic: setting the status moves the company on, in the same statement
-- (Acme is an MQL now, Ada and Alan are its persons)
SET LOCAL ROLE lm_auto_clerk;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1;
RESET ROLE;
SELECT is(pg_temp.category_of(1), 'opportunity',
    'rule A2: qualified moves the company to opportunity, also for a writer with no rights on companies');
SELECT is(pg_temp.rows(1),
    'created:->open@lead set:open>qualified@mql hidden:qualified>qualified@opportunity(hidden) automation:qualified>qualified@opportunity(hidden)',
    'rule A2: history shows the set, the hide (B3) and the automation');
SELECT is(pg_temp.rows(2), 'created:->open@lead hidden:open>open@opportunity(hidden)',
    'rule A2: the other persons of the company are hidden too');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint, 'rule A2: history replays');

-- only while the company is lead-enabled; a company it does not show for is untouched
SET lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 4;
RESET lead_mgmt.enforce;
SELECT is(pg_temp.category_of(3), 'customer', 'rule A2 does not fire with the rules off (X1)');

-- disabled rules do not fire; enabled again, they do
UPDATE lead_mgmt.category_rule SET enabled = false WHERE status = 'disqualified';
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 3;
SELECT is(pg_temp.category_of(2), 'mql', 'a disabled rule does not fire');
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 3;
UPDATE lead_mgmt.category_rule SET enabled = true WHERE status = 'disqualified';
SAVEPOINT before_fire;
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 3;
SELECT is(pg_temp.category_of(2), 'lost_opportunity', 'enabled again, it fires');
ROLLBACK TO SAVEPOINT before_fire;
SELECT is(pg_temp.category_of(2), 'mql', 'a rolled-back status change takes its automation with it');
SELECT unalike(pg_temp.rows(3), '%automation%', 'and its history row');

-- suggest-only: listed, not applied; gone once the category changes
SELECT results_eq($$SELECT company_id, category, suggested_category, lead_status, persons
                      FROM lead_mgmt.category_suggestions$$,
    $$VALUES (2, 'mql', 'opportunity', 'contacting', 1::bigint)$$,
    'category_suggestions: a suggest-only rule is listed');
SELECT is(pg_temp.category_of(2), 'mql', 'a suggest-only rule changes nothing');
SELECT lead_mgmt.advance_category(2, 'opportunity');
SELECT is((SELECT count(*) FROM lead_mgmt.category_suggestions), 0::bigint,
    'category_suggestions: gone once the category changed');

------------------------------------------------------------------------------
-- merge_status()
------------------------------------------------------------------------------

-- Gran is a customer (Gro holds open, retained); Bolt an opportunity (Bea:
-- contacting, retained).  Give some persons renurture, shown and retained.
INSERT INTO crm.company (id, name, category) VALUES (8, 'Hav', 'lead');
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (6, 8, 'Hege', 'renurture'), (7, 8, 'Hans', 'renurture');
UPDATE crm.company SET category = 'mql' WHERE id = 2;
UPDATE crm.person SET lead_status = 'renurture' WHERE id = 3;
UPDATE crm.company SET category = 'customer' WHERE id = 2;
INSERT INTO lead_mgmt.status_transition VALUES ('renurture', 'open'), ('contacting', 'renurture');
INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('renurture', 'lead');

SELECT throws_ok($$SELECT lead_mgmt.merge_status('renurture', 'renurture')$$, '22023',
    'cannot merge lead status "renurture" into itself', 'merge_status(): into itself is refused');
SELECT throws_ok($$SELECT lead_mgmt.merge_status('nope', 'open')$$, '23503', NULL,
    'merge_status(): an unknown status is refused');
SELECT throws_ok($$SELECT lead_mgmt.merge_status('renurture', NULL)$$, '22004', NULL,
    'merge_status(): NULL is refused');
SELECT throws_ok($$SELECT lead_mgmt.merge_status('open', 'contacting')$$, '23L06', NULL,
    'merge_status(): the default status cannot be merged away');
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'qualified';
SELECT throws_ok($$SELECT lead_mgmt.merge_status('renurture', 'qualified')$$, '23L03',
    'cannot merge into lead status "qualified": it is deleted', 'merge_status(): into a deleted status is refused');
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'qualified';
SELECT throws_ok($$SET ROLE lm_auto_clerk; SELECT lead_mgmt.merge_status('renurture', 'contacting')$$, '42501', NULL,
    'merge_status(): only lead_mgmt_admin merges');
RESET ROLE;
SELECT is((SELECT count(*) FROM crm.person WHERE lead_status = 'renurture'), 3::bigint, 'the refusals changed nothing');

SELECT is(lead_mgmt.merge_status('renurture', 'contacting'), 3::bigint,
    'merge_status(): returns the persons moved, shown and retained');
SELECT is((SELECT string_agg(id || ':' || lead_status, ' ' ORDER BY id) FROM crm.person WHERE id IN (3, 6, 7)),
    '3:contacting 6:contacting 7:contacting', 'merge_status(): every holder has the new status');
SELECT is(pg_temp.rows(6), 'created:->renurture@lead merged:renurture>contacting@lead',
    'merge_status(): recorded as merged');
SELECT alike(pg_temp.rows(3), '% merged:renurture>contacting@customer(hidden)',
    'merge_status(): a retained status is merged and stays hidden');
SELECT results_eq($$SELECT key, deleted FROM lead_mgmt.lead_status WHERE key = 'renurture'$$,
    $$VALUES ('renurture', true)$$, 'merge_status(): the old status ends soft-deleted');
SELECT set_eq($$SELECT from_status, to_status FROM lead_mgmt.status_transition$$,
    $$VALUES ('contacting', 'open')$$,
    'merge_status(): transitions into the old status now lead into the new one (contacting had none; none is added to itself)');
SELECT set_eq($$SELECT status, category, automatic FROM lead_mgmt.category_rule WHERE status IN ('renurture', 'contacting')$$,
    $$VALUES ('contacting', 'opportunity', false), ('contacting', 'lead', false)$$,
    'merge_status(): the old status''s category rules pass to the new one');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint, 'merge_status(): history replays');

SELECT * FROM finish();
ROLLBACK;
