-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- The rules hold whatever way the rows arrive: companies created in the
-- same statement or later in the transaction, savepoints, catalogs edited
-- mid-session, tables altered between statements, a hostile search_path,
-- row-level security, and the import switch lead_mgmt.enforce (rule X1).
--
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;
CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company,
                         name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person');

-- a company and its persons in one statement (rule B1)
WITH c AS (INSERT INTO crm.company VALUES (1, 'CTE Lead', 'lead') RETURNING id)
INSERT INTO crm.person (id, company_id, name) SELECT 1, id, 'Ann' FROM c;
WITH c AS (INSERT INTO crm.company VALUES (2, 'CTE Lead 2', 'mql'))
INSERT INTO crm.person (id, company_id, name) VALUES (2, 2, 'Bob');
SELECT id, company_id, lead_status FROM crm.person ORDER BY id;
-- ... and a status on a person of a company that is not lead-enabled (rule B5)
WITH c AS (INSERT INTO crm.company VALUES (3, 'CTE Customer', 'customer'))
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (3, 3, 'Cid', 'open');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows_added FROM crm.company WHERE id = 3;

-- a deferred foreign key: the company arrives later in the transaction
ALTER TABLE crm.person ALTER CONSTRAINT person_company_id_fkey DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO crm.person (id, company_id, name) VALUES (4, 4, 'Dag');
INSERT INTO crm.company VALUES (4, 'Late Lead', 'lead');
SELECT id, lead_status FROM crm.person WHERE id = 4;
COMMIT;
BEGIN;
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (5, 5, 'Eli', 'contacting');
INSERT INTO crm.company VALUES (5, 'Late Customer', 'customer');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
ALTER TABLE crm.person ALTER CONSTRAINT person_company_id_fkey NOT DEFERRABLE;

-- savepoints: what a rolled-back subtransaction knew is forgotten
BEGIN;
INSERT INTO crm.company VALUES (6, 'Savepoint Co', 'customer');
SAVEPOINT s1;
INSERT INTO crm.person (id, company_id, name) VALUES (6, 6, 'Finn');
ROLLBACK TO s1;
UPDATE crm.company SET category = 'lead' WHERE id = 6;
INSERT INTO crm.person (id, company_id, name) VALUES (7, 6, 'Gro');
SAVEPOINT s2;
UPDATE crm.company SET category = 'customer' WHERE id = 6;
ROLLBACK TO s2;
INSERT INTO crm.person (id, company_id, name) VALUES (8, 6, 'Hans');
COMMIT;
SELECT id, company_id, lead_status FROM crm.person WHERE company_id = 6 ORDER BY id;
-- an error caught in PL/pgSQL rolls back just that row's work
DO $$
BEGIN
    BEGIN
        INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (9, 6, 'Ida', 'no_such');
    EXCEPTION WHEN foreign_key_violation THEN
        RAISE NOTICE 'refused: %', SQLERRM;
    END;
    INSERT INTO crm.person (id, company_id, name) VALUES (9, 6, 'Ida');
END
$$;
SELECT id, lead_status FROM crm.person WHERE id = 9;

-- the catalog edited mid-session is used at once, also inside one transaction
INSERT INTO lead_mgmt.lead_status (key, name, kind, rank) VALUES ('demo_booked', 'Demo booked', 'working', 6);
UPDATE crm.person SET lead_status = 'demo_booked' WHERE id = 1;
BEGIN;
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'demo_booked';
UPDATE crm.person SET lead_status = 'demo_booked' WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
INSERT INTO crm.company VALUES (10, 'Opportunity Co', 'opportunity');
INSERT INTO crm.person (id, company_id, name) VALUES (10, 10, 'Jon');
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
INSERT INTO crm.person (id, company_id, name) VALUES (11, 10, 'Kari');
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
INSERT INTO crm.person (id, company_id, name) VALUES (12, 10, 'Liv');
COMMIT;
SELECT id, lead_status FROM crm.person WHERE company_id = 10 ORDER BY id;
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'contacting';
INSERT INTO crm.person (id, company_id, name) VALUES (13, 1, 'Mia');
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open';
INSERT INTO crm.person (id, company_id, name) VALUES (14, 1, 'Nils');
SELECT id, lead_status FROM crm.person WHERE id IN (13, 14) ORDER BY id;

-- the managed tables altered between statements
ALTER TABLE crm.person ADD COLUMN email text;
ALTER TABLE crm.person DROP COLUMN name;
ALTER TABLE crm.company ADD COLUMN city text DEFAULT 'Oslo';
INSERT INTO crm.person (id, company_id, email) VALUES (15, 1, 'olav@example.com');
UPDATE crm.company SET category = 'customer' WHERE id = 2;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE crm.person ALTER COLUMN id TYPE bigint;
UPDATE crm.company SET category = 'mql' WHERE id = 2;
SELECT id, company_id, lead_status, email FROM crm.person WHERE id IN (2, 15) ORDER BY id;
-- a managed column renamed away is reported, with what to do
ALTER TABLE crm.person RENAME COLUMN lead_status TO stage;
INSERT INTO crm.person (id, company_id) VALUES (16, 1);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE crm.person RENAME COLUMN stage TO lead_status;
INSERT INTO crm.person (id, company_id) VALUES (16, 1);
SELECT id, lead_status FROM crm.person WHERE id = 16;

-- a hostile search_path: look-alike tables, functions and operators in
-- schemas searched before pg_catalog change nothing
CREATE SCHEMA evil;
CREATE TABLE evil.lead_status (key text, is_default bool);
INSERT INTO evil.lead_status VALUES ('hacked', true);
CREATE TABLE evil.category (key text, enable_lead_status bool, category_group text);
CREATE FUNCTION evil.texteq_always(text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq_always);
CREATE FUNCTION evil.texteq_never(text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT false';
CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq_never);
CREATE FUNCTION evil.array_agg(int) RETURNS int[] LANGUAGE sql AS 'SELECT ARRAY[1]';
-- (the statements below spell their own text comparisons with
-- OPERATOR(pg_catalog.=): the user's own SQL is theirs to resolve)
SET search_path = evil, pg_catalog;
INSERT INTO crm.company VALUES (20, 'Search Path AS', 'customer');
INSERT INTO crm.person (id, company_id) VALUES (20, 20), (21, 20);
UPDATE crm.company SET category = 'lead' WHERE id = 20;
INSERT INTO crm.person (id, company_id) VALUES (22, 20);
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 22;
UPDATE crm.company SET category = 'customer' WHERE id = 20;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 21;
\echo :LAST_ERROR_SQLSTATE
UPDATE crm.company SET category = 'mql' WHERE id = 20;
UPDATE lead_mgmt.category SET enable_lead_status = true
 WHERE key OPERATOR(pg_catalog.=) 'lost_opportunity';
UPDATE lead_mgmt.category SET enable_lead_status = false
 WHERE key OPERATOR(pg_catalog.=) 'lost_opportunity';
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key OPERATOR(pg_catalog.=) 'qualified';
INSERT INTO crm.person (id, company_id) VALUES (23, 20);
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key OPERATOR(pg_catalog.=) 'open';
SELECT key, enable_lead_status FROM lead_mgmt.category ORDER BY rank;
RESET search_path;
SELECT id, company_id, lead_status FROM crm.person WHERE company_id IN (1, 20) ORDER BY id;
SELECT key FROM lead_mgmt.lead_status WHERE is_default;
DROP SCHEMA evil CASCADE;

-- row-level security: a category change reaches persons the user cannot see
DROP ROLE IF EXISTS lm_rls_sales;
CREATE ROLE lm_rls_sales;
GRANT USAGE ON SCHEMA crm TO lm_rls_sales;
GRANT SELECT, INSERT, UPDATE ON crm.company, crm.person TO lm_rls_sales;
ALTER TABLE crm.person ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.person FORCE ROW LEVEL SECURITY;
CREATE POLICY only_mine ON crm.person USING (id < 31) WITH CHECK (id < 31);
ALTER TABLE crm.person NO FORCE ROW LEVEL SECURITY;
INSERT INTO crm.company VALUES (30, 'RLS AS', 'customer');
INSERT INTO crm.person (id, company_id) VALUES (30, 30), (31, 30);
SET ROLE lm_rls_sales;
SELECT id FROM crm.person WHERE company_id = 30 ORDER BY id;
UPDATE crm.company SET category = 'lead' WHERE id = 30;
INSERT INTO crm.person (id, company_id) VALUES (32, 30);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT id, lead_status FROM crm.person WHERE company_id = 30 ORDER BY id;
DROP POLICY only_mine ON crm.person;
ALTER TABLE crm.person DISABLE ROW LEVEL SECURITY;

-- rule X1: lead_mgmt.enforce = off loads data without the rules, for
-- superusers and members of lead_mgmt_admin only
DROP ROLE IF EXISTS lm_importer;
DROP ROLE IF EXISTS lm_clerk;
CREATE ROLE lm_importer IN ROLE lead_mgmt_admin;
CREATE ROLE lm_clerk;
GRANT USAGE ON SCHEMA crm TO lm_importer, lm_clerk;
GRANT SELECT, INSERT, UPDATE ON crm.company, crm.person TO lm_importer, lm_clerk;
INSERT INTO crm.company VALUES (40, 'Old Customer AS', 'customer');
SET ROLE lm_clerk;
SET lead_mgmt.enforce = off;
\echo :LAST_ERROR_SQLSTATE
SHOW lead_mgmt.enforce;
INSERT INTO crm.person (id, company_id, lead_status) VALUES (40, 40, 'qualified');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE lm_importer;
SET lead_mgmt.enforce = off;
-- retained statuses of customers' persons, loaded as they were
INSERT INTO crm.person (id, company_id, lead_status) VALUES (40, 40, 'qualified'), (41, 40, 'disqualified');
RESET lead_mgmt.enforce;
INSERT INTO crm.person (id, company_id, lead_status) VALUES (42, 40, 'qualified');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT id, lead_status FROM crm.person WHERE company_id = 40 ORDER BY id;
-- a superuser may too, and the rules still guard the catalogs
SET lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = 'open' WHERE id = 41;
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'customer';
\echo :LAST_ERROR_SQLSTATE
RESET lead_mgmt.enforce;
SELECT id, lead_status FROM crm.person WHERE id = 41;

SELECT lead_mgmt.unmanage();
DROP SCHEMA crm CASCADE;
DROP ROLE lm_rls_sales;
DROP ROLE lm_importer;
DROP ROLE lm_clerk;
-- status history outlives unmanage() and refuses DROP EXTENSION; drop it first
SET client_min_messages = warning;
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_catalog.pg_tables
              WHERE schemaname = 'lead_mgmt' AND tablename LIKE 'status\_history%' LOOP
        EXECUTE pg_catalog.format('DROP TABLE lead_mgmt.%I', t);
    END LOOP;
END
$$;
DROP EXTENSION lead_mgmt;
