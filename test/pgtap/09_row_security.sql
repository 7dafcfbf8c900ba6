-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Row-level security on the person table: the cascades of rule B2 reach
-- persons the user who changes a company or a category cannot see, and the
-- catalog guards see every holder.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(27);

CREATE ROLE lm_tap_rls_owner;
CREATE ROLE lm_tap_rls_seller;
CREATE ROLE lm_tap_rls_curator IN ROLE lead_mgmt_admin;
CREATE ROLE lm_tap_rls_outsider IN ROLE lead_mgmt_admin;

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL,
    seller name NOT NULL DEFAULT current_user);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'fixture: manage crm.company and crm.person');
INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'customer'), (2, 'Bolt', 'opportunity'), (3, 'Cargo', 'lead');
INSERT INTO crm.person (id, company_id, name, seller) VALUES
    (1, 1, 'Ada', 'lm_tap_rls_seller'), (2, 1, 'Alan', 'someone_else'), (3, 1, 'Anne', 'someone_else'),
    (4, 2, 'Barbara', 'someone_else'), (5, 2, 'Brian', 'lm_tap_rls_seller'),
    (6, 3, 'Charles', 'someone_else');
-- retained statuses, loaded as an administrator would
SET lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1;
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2;
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 4;
RESET lead_mgmt.enforce;

-- the tables belong to an ordinary role, and their policy binds it too
ALTER SCHEMA crm OWNER TO lm_tap_rls_owner;
ALTER TABLE crm.company OWNER TO lm_tap_rls_owner;
ALTER TABLE crm.person OWNER TO lm_tap_rls_owner;
ALTER TABLE crm.person ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.person FORCE ROW LEVEL SECURITY;
CREATE POLICY own_persons ON crm.person USING (seller = current_user) WITH CHECK (seller = current_user);
GRANT USAGE ON SCHEMA crm TO lm_tap_rls_seller, lm_tap_rls_curator;
GRANT SELECT, INSERT, UPDATE ON crm.company, crm.person TO lm_tap_rls_seller;

CREATE FUNCTION pg_temp.statuses() RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(format('%s:%s', id, coalesce(lead_status, '-')) ORDER BY id) FROM crm.person
$$;

SET ROLE lm_tap_rls_owner;
SELECT is((SELECT count(*)::int FROM crm.person), 0, 'the policy hides every person from the table owner');
RESET ROLE;
SET ROLE lm_tap_rls_seller;
SELECT results_eq('SELECT id FROM crm.person ORDER BY id', ARRAY[1, 5], 'the seller sees only their own persons');

-- B2 by the company's category, changed by the seller
SELECT lives_ok($$UPDATE crm.company SET category = 'lead' WHERE id = 1$$, 'the seller makes Acme a lead');
RESET ROLE;
SELECT is(pg_temp.statuses(), '{1:open,2:open,3:open,4:disqualified,5:-,6:open}',
    'rule B2: every person of Acme gets the default, also those the seller cannot see');

SET ROLE lm_tap_rls_seller;
UPDATE crm.company SET category = 'customer' WHERE id = 1;
RESET ROLE;
SET lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = CASE id WHEN 1 THEN 'qualified' WHEN 2 THEN 'contacting' ELSE NULL END
 WHERE company_id = 1;
RESET lead_mgmt.enforce;
SET lead_mgmt.reentry = restore;
SET ROLE lm_tap_rls_seller;
SELECT lives_ok($$UPDATE crm.company SET category = 'mql' WHERE id = 1$$, 'the seller makes Acme an MQL, reentry = restore');
RESET ROLE;
RESET lead_mgmt.reentry;
SELECT is(pg_temp.statuses(), '{1:qualified,2:contacting,3:open,4:disqualified,5:-,6:open}',
    'rule B2 (restore): hidden persons get back their own status, the empty one the default');

-- B2 by the catalog, changed by an administrator without any right on the tables
SET ROLE lm_tap_rls_curator;
SELECT throws_ok('SELECT count(*) FROM crm.person', '42501', NULL, 'the administrator has no right on the person table');
SELECT throws_ok('SELECT count(*) FROM crm.company', '42501', NULL, 'nor on the company table');
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity'$$,
    'the administrator enables lead status on opportunity');
RESET ROLE;
SELECT is(pg_temp.statuses(), '{1:qualified,2:contacting,3:open,4:open,5:open,6:open}',
    'rule B2 by the catalog: every person of Bolt gets the default');

-- B3 by the catalog
SET ROLE lm_tap_rls_curator;
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'mql'$$,
    'the administrator disables lead status on mql');
RESET ROLE;
SELECT is(pg_temp.statuses(), '{1:qualified,2:contacting,3:open,4:open,5:open,6:open}',
    'rule B3 by the catalog: no status changes');
SET ROLE lm_tap_rls_curator;
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'mql';
RESET ROLE;

-- B1 and B5 for the seller
SET ROLE lm_tap_rls_seller;
SELECT lives_ok($$INSERT INTO crm.person (id, company_id, name) VALUES (7, 3, 'Carl')$$, 'the seller adds a person to Cargo');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 7', ARRAY['open'], 'rule B1 under row-level security');
UPDATE crm.company SET category = 'partner' WHERE id = 2;
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 5$$,
    '23L01', NULL, 'rule B5 under row-level security');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 5', ARRAY['open'], 'rule B5: nothing changed');
RESET ROLE;

-- the guards see holders nobody can see
INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('escalated', 'Escalated', 8);
UPDATE crm.person SET lead_status = 'escalated' WHERE id = 6;
INSERT INTO lead_mgmt.category (key, name, rank) VALUES ('dormant', 'Dormant', 8);
UPDATE crm.company SET category = 'dormant' WHERE id = 2;
SET ROLE lm_tap_rls_curator;
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'escalated'$$,
    '23L08', NULL, 'a status held only by persons the administrator cannot see cannot be hard-deleted');
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET key = 'escalation' WHERE key = 'escalated'$$,
    '23L07', NULL, 'nor can its key change');
SELECT throws_ok($$DELETE FROM lead_mgmt.category WHERE key = 'dormant'$$,
    '23L08', NULL, 'a category held by a company the administrator cannot read cannot be hard-deleted');
RESET ROLE;
SELECT results_eq($$SELECT (SELECT count(*)::int FROM lead_mgmt.lead_status WHERE key = 'escalated'),
                           (SELECT count(*)::int FROM lead_mgmt.category WHERE key = 'dormant'),
                           (SELECT lead_status FROM crm.person WHERE id = 6)$$,
    $$VALUES (1, 1, 'escalated')$$, 'the refused changes changed nothing');

-- an administrator who may not even look into the CRM's schema (after an
-- ALTER TABLE, so that nothing lead_mgmt prepared earlier is reused)
UPDATE crm.company SET category = 'lost_opportunity' WHERE id = 2;
SET lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = CASE id WHEN 4 THEN 'qualified' END WHERE company_id = 2;
RESET lead_mgmt.enforce;
ALTER TABLE crm.company ADD COLUMN note text;
ALTER TABLE crm.person ADD COLUMN note text;
SET ROLE lm_tap_rls_outsider;
SELECT throws_ok('SELECT count(*) FROM crm.company', '42501', NULL, 'the outsider has no access to schema crm');
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'lost_opportunity'$$,
    'rule B2: an administrator without access to the CRM''s schema enables lead status on a category');
RESET ROLE;
SELECT is(pg_temp.statuses(), '{1:open,2:open,3:open,4:open,5:open,6:escalated,7:open}',
    'rule B2: the persons of Bolt (lost opportunity) get the default');
SELECT pg_temp.statuses() AS before \gset
SET ROLE lm_tap_rls_outsider;
SELECT lives_ok($$UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'lost_opportunity'$$,
    'rule B3: the outsider disables it again');
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'escalated'$$,
    '23L08', NULL, 'the outsider cannot hard-delete a status in use either');
RESET ROLE;
SELECT is(pg_temp.statuses(), :'before', 'rule B3: the outsider''s changes changed no status');

SELECT * FROM finish();
ROLLBACK;
