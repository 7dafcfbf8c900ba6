-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- lead_mgmt.manage() and lead_mgmt.unmanage(): what they refuse (with the
-- SQLSTATE, and nothing changed), and what they do with tables of every
-- key type and with names that need quoting.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = notice;
CREATE EXTENSION lead_mgmt;

CREATE SCHEMA m;
-- what manage() leaves behind, to show that refusals change nothing
CREATE VIEW m.footprint AS
SELECT (SELECT count(*) FROM lead_mgmt.registration) AS registrations,
       (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'm' AND NOT t.tgisinternal) AS triggers,
       (SELECT string_agg(c.relname || '.' || a.attname, ', ' ORDER BY c.relname, a.attname)
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'm' AND a.attname IN ('category', 'lead_status')
           AND NOT a.attisdropped AND c.relkind = 'r') AS lead_columns;

SELECT * FROM m.footprint;
CREATE TABLE m.company (id int PRIMARY KEY, name text);
CREATE TABLE m.person (id int PRIMARY KEY, company_id int REFERENCES m.company, name text);
CREATE TABLE m.nokey (id int, name text);
CREATE TABLE m.orphan (id int PRIMARY KEY, company_id int);
CREATE TABLE m.twice (id int PRIMARY KEY,
                      company_id int REFERENCES m.company,
                      previous_company_id int REFERENCES m.company);
CREATE TABLE m.wide (a int, b int, name text, PRIMARY KEY (a, b));
CREATE TABLE m.person_of_wide (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES m.wide);
CREATE TABLE m.alt_company (id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE m.person_by_code (id int PRIMARY KEY, company_code text REFERENCES m.alt_company (code));
CREATE TABLE m.person_typed (id int PRIMARY KEY, company_id int REFERENCES m.company, lead_status int);
CREATE TABLE m.company_typed (id int PRIMARY KEY, category int);
CREATE TABLE m.person_of_typed (id int PRIMARY KEY, company_id int REFERENCES m.company_typed);
CREATE TEMP TABLE temp_company (id int PRIMARY KEY);
CREATE TEMP TABLE temp_person (id int PRIMARY KEY, company_id int REFERENCES temp_company);
CREATE VIEW m.company_view AS SELECT * FROM m.company;

-- company table without a primary key
SELECT lead_mgmt.manage('m.nokey', 'm.person');
\echo :LAST_ERROR_SQLSTATE
-- person table without a foreign key to the company table
SELECT lead_mgmt.manage('m.company', 'm.orphan');
\echo :LAST_ERROR_SQLSTATE
SELECT lead_mgmt.manage('m.company', 'm.orphan', company_column => 'company_id');
\echo :LAST_ERROR_SQLSTATE
-- two foreign keys: which one?
SELECT lead_mgmt.manage('m.company', 'm.twice');
\echo :LAST_ERROR_SQLSTATE
-- a named column that does not exist
SELECT lead_mgmt.manage('m.company', 'm.twice', company_column => 'employer_id');
\echo :LAST_ERROR_SQLSTATE
-- a company key of two columns
SELECT lead_mgmt.manage('m.wide', 'm.person_of_wide');
\echo :LAST_ERROR_SQLSTATE
-- a foreign key to another unique column than the primary key
SELECT lead_mgmt.manage('m.alt_company', 'm.person_by_code');
\echo :LAST_ERROR_SQLSTATE
-- existing columns of the wrong type
SELECT lead_mgmt.manage('m.company', 'm.person_typed');
\echo :LAST_ERROR_SQLSTATE
SELECT lead_mgmt.manage('m.company_typed', 'm.person_of_typed');
\echo :LAST_ERROR_SQLSTATE
-- a managed column that would clash with the key
SELECT lead_mgmt.manage('m.company', 'm.person', lead_status_column => 'company_id');
\echo :LAST_ERROR_SQLSTATE
-- optional columns must exist
SELECT lead_mgmt.manage('m.company', 'm.person', label_column => 'full_name');
\echo :LAST_ERROR_SQLSTATE
-- not two tables, not ordinary tables, not temporary
SELECT lead_mgmt.manage('m.company', 'm.company');
\echo :LAST_ERROR_SQLSTATE
SELECT lead_mgmt.manage('m.company_view', 'm.person');
\echo :LAST_ERROR_SQLSTATE
SELECT lead_mgmt.manage('temp_company', 'temp_person');
\echo :LAST_ERROR_SQLSTATE
SELECT lead_mgmt.manage(NULL, 'm.person');
\echo :LAST_ERROR_SQLSTATE
-- tables that do not exist
SELECT lead_mgmt.manage('m.no_such_table', 'm.person');
\echo :LAST_ERROR_SQLSTATE
-- existing values that are not catalog keys
ALTER TABLE m.company ADD COLUMN category text;
INSERT INTO m.company VALUES (1, 'Acme', 'prospect');
SELECT lead_mgmt.manage('m.company', 'm.person');
\echo :LAST_ERROR_SQLSTATE
UPDATE m.company SET category = 'lead';
-- only owners, and only lead_mgmt_admin
SET client_min_messages = warning;
DROP ROLE IF EXISTS lm_manage_clerk;
RESET client_min_messages;
CREATE ROLE lm_manage_clerk;
GRANT USAGE ON SCHEMA m TO lm_manage_clerk;
SET ROLE lm_manage_clerk;
SELECT lead_mgmt.manage('m.company', 'm.person');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT lead_mgmt_admin TO lm_manage_clerk;
SET ROLE lm_manage_clerk;
SELECT lead_mgmt.manage('m.company', 'm.person');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- nothing of the above left a trace
SELECT * FROM m.footprint;

-- now for real: existing persons of lead-enabled companies get the default
INSERT INTO m.company VALUES (2, 'Globex', 'customer'), (3, 'Initech', NULL);
INSERT INTO m.person VALUES (1, 1, 'Ann'), (2, 2, 'Bob'), (3, 3, 'Cid'), (4, NULL, 'Dan');
SELECT lead_mgmt.manage('m.company', 'm.person', label_column => 'name');
SELECT * FROM m.footprint;
SELECT id, company_id, name, lead_status FROM m.person ORDER BY id;
SELECT company_table, company_key, person_table, person_key,
       company_column, category_column, lead_status_column, label_column, owner_column,
       category_fkey, lead_status_fkey
  FROM lead_mgmt.registration;
SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
 WHERE tgrelid IN ('m.company'::regclass, 'm.person'::regclass) AND NOT tgisinternal
 ORDER BY tgname;
-- a second manage() is refused, even for other tables
CREATE TABLE m.company2 (id int PRIMARY KEY);
CREATE TABLE m.person2 (id int PRIMARY KEY, company_id int REFERENCES m.company2);
SELECT lead_mgmt.manage('m.company2', 'm.person2');
\echo :LAST_ERROR_SQLSTATE
-- unmanage keeps every row and column, removes the triggers and the
-- foreign keys it added, and the rules stop
SELECT lead_mgmt.unmanage();
SELECT * FROM m.footprint;
SELECT conname FROM pg_constraint WHERE conrelid IN ('m.company'::regclass, 'm.person'::regclass)
 ORDER BY conname;
INSERT INTO m.person VALUES (5, 1, 'Eve');
SELECT id, lead_status FROM m.person WHERE id = 5;
SELECT lead_mgmt.unmanage();
\echo :LAST_ERROR_SQLSTATE
-- managing again reuses the columns; the back-fill applies to Eve
SELECT lead_mgmt.manage('m.company', 'm.person');
SELECT id, lead_status FROM m.person ORDER BY id;
SELECT lead_mgmt.unmanage();
-- and the extension can be dropped after unmanage()
DROP SCHEMA m CASCADE;

-- keys of every common type, and names that need quoting
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Kunde Firma" (
    "Firma-ID" uuid PRIMARY KEY,
    "Navn" text);
CREATE TABLE "Sales Dept"."Kontakt Person" (
    "Person ID" bigint PRIMARY KEY,
    "Firma" uuid REFERENCES "Sales Dept"."Kunde Firma",
    "Fornavn" text);
CREATE INDEX ON "Sales Dept"."Kontakt Person" ("Firma");
SELECT lead_mgmt.manage('"Sales Dept"."Kunde Firma"', '"Sales Dept"."Kontakt Person"',
                        category_column => 'Kategori Ø', lead_status_column => 'Lead-Status');
INSERT INTO "Sales Dept"."Kunde Firma" VALUES
    ('00000000-0000-0000-0000-000000000001', 'Fjord AS', 'lead'),
    ('00000000-0000-0000-0000-000000000002', 'Bre AS', 'customer');
INSERT INTO "Sales Dept"."Kontakt Person" VALUES
    (1, '00000000-0000-0000-0000-000000000001', 'Åse'),
    (2, '00000000-0000-0000-0000-000000000002', 'Bjørn');
SELECT "Person ID", "Fornavn", "Lead-Status" FROM "Sales Dept"."Kontakt Person" ORDER BY 1;
UPDATE "Sales Dept"."Kunde Firma" SET "Kategori Ø" = 'mql' WHERE "Navn" = 'Bre AS';
SELECT "Person ID", "Fornavn", "Lead-Status" FROM "Sales Dept"."Kontakt Person" ORDER BY 1;
UPDATE "Sales Dept"."Kontakt Person" SET "Lead-Status" = 'qualified' WHERE "Person ID" = 2;
UPDATE "Sales Dept"."Kunde Firma" SET "Kategori Ø" = 'partner' WHERE "Navn" = 'Bre AS';
UPDATE "Sales Dept"."Kontakt Person" SET "Lead-Status" = 'open' WHERE "Person ID" = 2;
\echo :LAST_ERROR_SQLSTATE
SELECT "Person ID", "Fornavn", "Lead-Status" FROM "Sales Dept"."Kontakt Person" ORDER BY 1;
SELECT lead_mgmt.unmanage();
DROP SCHEMA "Sales Dept" CASCADE;

-- text keys, a person key that includes the company column, and no index
-- on the company column (manage() says so)
CREATE SCHEMA t;
CREATE TABLE t.company (code text PRIMARY KEY, category varchar(40));
CREATE TABLE t.person (company_code text REFERENCES t.company, seq int, lead_status text,
                       PRIMARY KEY (company_code, seq));
INSERT INTO t.company VALUES ('ACME', 'mql'), ('GLOBEX', NULL);
INSERT INTO t.person VALUES ('ACME', 1, NULL), ('ACME', 2, 'contacting'), ('GLOBEX', 1, NULL);
SELECT lead_mgmt.manage('t.company', 't.person');
SELECT person_key, company_column FROM lead_mgmt.registration;
SELECT * FROM t.person ORDER BY 1, 2;
INSERT INTO t.person VALUES ('GLOBEX', 2, 'open');
\echo :LAST_ERROR_SQLSTATE
UPDATE t.company SET category = 'lead' WHERE code = 'GLOBEX';
SELECT * FROM t.person ORDER BY 1, 2;
SELECT lead_mgmt.unmanage();
DROP SCHEMA t CASCADE;

-- a dropped managed table clears the registration (with a NOTICE)
CREATE SCHEMA gone;
CREATE TABLE gone.company (id int PRIMARY KEY);
CREATE TABLE gone.person (id int PRIMARY KEY, company_id int REFERENCES gone.company);
CREATE INDEX ON gone.person (company_id);
SELECT lead_mgmt.manage('gone.company', 'gone.person');
DROP SCHEMA gone CASCADE;
SELECT count(*) FROM lead_mgmt.registration;
-- catalog edits work on
INSERT INTO lead_mgmt.category (key, name) VALUES ('trade_fair', 'Trade fair');
UPDATE lead_mgmt.category SET key = 'fair' WHERE key = 'trade_fair';
DELETE FROM lead_mgmt.category WHERE key = 'fair';
SELECT lead_mgmt.unmanage();
\echo :LAST_ERROR_SQLSTATE

-- dropping one table of the pair: the other keeps its data and is writable
CREATE SCHEMA half;
CREATE TABLE half.company (id int PRIMARY KEY);
CREATE TABLE half.person (id int PRIMARY KEY, company_id int REFERENCES half.company);
CREATE INDEX ON half.person (company_id);
SELECT lead_mgmt.manage('half.company', 'half.person');
INSERT INTO half.company VALUES (1, 'lead');
INSERT INTO half.person VALUES (1, 1);
DROP TABLE half.company CASCADE;
SELECT count(*) FROM lead_mgmt.registration;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'half.person'::regclass AND NOT tgisinternal;
UPDATE half.person SET lead_status = 'qualified', company_id = 7 WHERE id = 1;
SELECT * FROM half.person;
DROP SCHEMA half CASCADE;

-- renaming a managed table (or its schema) is followed
CREATE SCHEMA ren;
CREATE TABLE ren.company (id int PRIMARY KEY);
CREATE TABLE ren.person (id int PRIMARY KEY, company_id int REFERENCES ren.company);
CREATE INDEX ON ren.person (company_id);
SELECT lead_mgmt.manage('ren.company', 'ren.person');
INSERT INTO ren.company VALUES (1, 'customer');
ALTER TABLE ren.company RENAME TO firm;
ALTER SCHEMA ren RENAME TO crm2;
ALTER TABLE crm2.person RENAME TO contact;
INSERT INTO crm2.contact VALUES (1, 1);
UPDATE crm2.firm SET category = 'lead';
SELECT * FROM crm2.contact;
SELECT company_table, person_table FROM lead_mgmt.registration;
SELECT lead_mgmt.unmanage();
DROP SCHEMA crm2 CASCADE;

DROP ROLE lm_manage_clerk;
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
