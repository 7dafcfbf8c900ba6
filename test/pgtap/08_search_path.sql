-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- A hostile search_path: look-alike catalogs, functions and operators in
-- public (and in pg_temp), with pg_catalog searched last.  The rules, the
-- catalog guards, manage() and the label functions behave as always.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(34);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);

-- Look-alikes that would change every answer if lead_mgmt resolved an
-- unqualified name through the search_path.
CREATE TABLE public.lead_status (key text, name text, kind text, rank int, is_default boolean, deleted boolean,
    shipped boolean, stale_after_days int, description text);
INSERT INTO public.lead_status VALUES ('evil', 'Evil', 'open', 0, true, false, false, NULL, NULL),
    ('open', 'Open', 'open', 1, false, true, true, NULL, NULL);
CREATE TABLE public.category (key text, name text, category_group text, enable_lead_status boolean, rank int,
    deleted boolean, shipped boolean, description text);
INSERT INTO public.category VALUES ('lead', 'Lead', 'customer', false, 1, false, true, NULL),
    ('customer', 'Customer', 'potential_customer', true, 5, false, true, NULL);
CREATE TABLE public.status_transition (from_status text, to_status text);
INSERT INTO public.status_transition VALUES ('open', 'qualified');
CREATE TABLE public.registration (company_schema name, company_table name);
CREATE TABLE public.category_label (category text, language text, name text, description text);
INSERT INTO public.category_label VALUES ('lead', 'en', 'EVIL', 'EVIL');
CREATE TEMP TABLE lead_status (key text, is_default boolean, deleted boolean);
INSERT INTO lead_status VALUES ('evil', true, false);
CREATE TEMP TABLE category (key text, category_group text, enable_lead_status boolean, deleted boolean);

CREATE FUNCTION public.evil_eq(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE FUNCTION public.evil_ne(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false';
CREATE FUNCTION public.evil_int_eq(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE FUNCTION public.evil_group_eq(lead_mgmt.category_group, lead_mgmt.category_group) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_eq);
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_ne);
CREATE OPERATOR public.= (LEFTARG = int, RIGHTARG = int, FUNCTION = public.evil_int_eq);
CREATE OPERATOR public.= (LEFTARG = lead_mgmt.category_group, RIGHTARG = lead_mgmt.category_group,
    FUNCTION = public.evil_group_eq);
CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$SELECT 'nb'$$;
CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE sql AS $$SELECT 'nb'$$;
CREATE FUNCTION public.array_agg(int) RETURNS int[] LANGUAGE sql AS 'SELECT ARRAY[1, 2, 3]';
CREATE FUNCTION public.is_lead_enabled(text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE sql AS $$SELECT 'evil'$$;

-- Runs a statement with pg_catalog last in the search_path.
CREATE FUNCTION pg_temp.hostile(sql text) RETURNS void LANGUAGE plpgsql
    SET search_path = public, pg_catalog AS $$
BEGIN
    EXECUTE sql;
END
$$;

-- the look-alikes do work on unqualified names
SET search_path = public, pg_catalog;
SELECT (1 = 2) AS hostile_int_eq, ('a' = 'b') AS hostile_text_eq \gset
RESET search_path;
SELECT ok(:'hostile_int_eq' AND :'hostile_text_eq', 'the look-alike operators are active with pg_catalog last');

SELECT lives_ok($$SELECT pg_temp.hostile('SELECT lead_mgmt.manage(''crm.company'', ''crm.person'')')$$,
    'manage() under the hostile search_path');
SELECT is((SELECT company_table::pg_catalog.text FROM lead_mgmt.registration),
    'crm.company', 'manage(): the registration is right');

CREATE FUNCTION pg_temp.persons() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s', id, company_id, coalesce(lead_status, '-')), ' ' ORDER BY id)
      FROM crm.person
$$;


SET search_path = public, pg_catalog;
INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'customer'), (3, 'Cargo', 'lead'),
    (4, 'Dyn', 'opportunity');
INSERT INTO crm.person (id, company_id, name) VALUES (1, 1, 'Ada'), (2, 1, 'Alan'), (3, 2, 'Barbara'),
    (4, 3, 'Charles'), (5, 4, 'Dennis'), (6, NULL, 'Edsger');
RESET search_path;
SELECT results_eq('SELECT id, lead_status FROM crm.person ORDER BY id',
    $$VALUES (1, 'open'), (2, 'open'), (3, NULL), (4, 'open'), (5, NULL), (6, NULL)$$,
    'rule B1 under the hostile search_path: the real default, only for the real lead categories');

SELECT pg_temp.persons() AS before \gset
SELECT throws_ok($$SELECT pg_temp.hostile('UPDATE crm.person SET lead_status = ''contacting'' WHERE id OPERATOR(pg_catalog.=) 3')$$,
    '23L01', NULL, 'rule B5 under the hostile search_path');
SELECT throws_ok($$SELECT pg_temp.hostile('UPDATE crm.person SET lead_status = ''evil'' WHERE id OPERATOR(pg_catalog.=) 1')$$,
    '23503', NULL, 'a status only the look-alike table knows is unknown');
SELECT throws_ok($$SELECT pg_temp.hostile('UPDATE crm.person SET lead_status = NULL WHERE id OPERATOR(pg_catalog.=) 1')$$,
    '23502', NULL, 'a visible status cannot be cleared under the hostile search_path');
SELECT throws_ok($$SELECT pg_temp.hostile('UPDATE crm.company SET category = ''evil_category'' WHERE id OPERATOR(pg_catalog.=) 2')$$,
    '23503', NULL, 'an unknown category is refused under the hostile search_path');
SELECT is(pg_temp.persons(), :'before', 'the refused statements changed nothing');
SELECT lives_ok($$SELECT pg_temp.hostile('UPDATE crm.person SET lead_status = ''contacting'' WHERE id OPERATOR(pg_catalog.=) 1')$$,
    'rule S2 under the hostile search_path: the look-alike transition rule is ignored');
SELECT lives_ok($$SELECT pg_temp.hostile('UPDATE crm.person SET lead_status = ''qualified'' WHERE id OPERATOR(pg_catalog.=) 2')$$,
    'rule S2: open -> qualified is allowed (no real rules)');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id IN (1, 2) ORDER BY id',
    $$VALUES (1, 'contacting'), (2, 'qualified')$$, 'the statuses were set on the right persons only');

-- B2 and B3 cascades
SELECT lives_ok($$SELECT pg_temp.hostile('UPDATE crm.company SET category = ''customer'' WHERE id OPERATOR(pg_catalog.=) 1')$$,
    'Acme becomes a customer under the hostile search_path');
SELECT lives_ok($$SELECT pg_temp.hostile('UPDATE crm.company SET category = ''mql'' WHERE id OPERATOR(pg_catalog.=) 2')$$,
    'Bolt becomes an MQL under the hostile search_path');
SELECT results_eq('SELECT id, lead_status FROM crm.person ORDER BY id',
    $$VALUES (1, 'contacting'), (2, 'qualified'), (3, 'open'), (4, 'open'), (5, NULL), (6, NULL)$$,
    'rules B2 and B3 under the hostile search_path: only Bolt''s person got the default');
SELECT lives_ok($$SELECT pg_temp.hostile('SET lead_mgmt.reentry = restore; UPDATE crm.company SET category = ''lead'' WHERE id OPERATOR(pg_catalog.=) 1')$$,
    'Acme becomes a lead again, reentry = restore');
SELECT results_eq('SELECT id, lead_status FROM crm.person WHERE id IN (1, 2) ORDER BY id',
    $$VALUES (1, 'contacting'), (2, 'qualified')$$, 'rule B2 (restore) under the hostile search_path');
RESET lead_mgmt.reentry;
SELECT lives_ok($$SELECT pg_temp.hostile('UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key OPERATOR(pg_catalog.=) ''opportunity''')$$,
    'an administrator enables opportunity under the hostile search_path');
SELECT results_eq('SELECT id, lead_status FROM crm.person ORDER BY id',
    $$VALUES (1, 'contacting'), (2, 'qualified'), (3, 'open'), (4, 'open'), (5, 'open'), (6, NULL)$$,
    'rule B2 by the catalog under the hostile search_path: only Dyn''s person got the default');

-- catalog guards
SELECT lives_ok($$SELECT pg_temp.hostile('UPDATE lead_mgmt.lead_status SET is_default = true WHERE key OPERATOR(pg_catalog.=) ''contacting''')$$,
    'rule S1: the default moves under the hostile search_path');
SELECT results_eq('SELECT key FROM lead_mgmt.lead_status WHERE is_default', ARRAY['contacting'],
    'rule S1: exactly one default, the right one');
SELECT throws_ok($$SELECT pg_temp.hostile('UPDATE lead_mgmt.lead_status SET is_default = false WHERE key OPERATOR(pg_catalog.=) ''contacting''')$$,
    '23L06', NULL, 'rule S1: the default cannot be unset under the hostile search_path');
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open';
INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('held', 'Held', 8), ('unused', 'Unused', 9);
INSERT INTO lead_mgmt.category (key, name, rank) VALUES ('unused_category', 'Unused', 9);
UPDATE crm.person SET lead_status = 'held' WHERE id = 3;
SELECT throws_ok($$SELECT pg_temp.hostile('DELETE FROM lead_mgmt.lead_status WHERE key OPERATOR(pg_catalog.=) ''held''')$$,
    '23L08', NULL, 'a status in use cannot be hard-deleted under the hostile search_path');
SELECT lives_ok($$SELECT pg_temp.hostile('DELETE FROM lead_mgmt.lead_status WHERE key OPERATOR(pg_catalog.=) ''unused''')$$,
    'an unused status is deleted under the hostile search_path');
SELECT lives_ok($$SELECT pg_temp.hostile('DELETE FROM lead_mgmt.category WHERE key OPERATOR(pg_catalog.=) ''unused_category''')$$,
    'an unused category is deleted under the hostile search_path');
SELECT throws_ok($$SELECT pg_temp.hostile('DELETE FROM lead_mgmt.category WHERE key OPERATOR(pg_catalog.=) ''mql''')$$,
    '23L09', NULL, 'a shipped category cannot be deleted under the hostile search_path');
SELECT results_eq($$SELECT key FROM lead_mgmt.lead_status WHERE key IN ('held', 'unused')
                    UNION ALL SELECT key FROM lead_mgmt.category WHERE key IN ('mql', 'unused_category')$$,
    ARRAY['held', 'mql'], 'exactly the unused rows were deleted');
SELECT throws_ok($$SELECT pg_temp.hostile('UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key OPERATOR(pg_catalog.=) ''customer''')$$,
    '23L05', NULL, 'rule C1 under the hostile search_path');

-- label functions
SET search_path = public, pg_catalog;
SELECT lead_mgmt.status_name('open') AS status_en, lead_mgmt.category_name('lead') AS category_en,
       lead_mgmt.is_lead_enabled('customer') AS customer_enabled,
       lead_mgmt.category_group_name('potential_customer') AS group_en \gset
RESET search_path;
SELECT is(:'status_en'::text, 'Open', 'status_name() ignores a look-alike current_setting()');
SELECT is(:'category_en'::text, 'Lead', 'category_name() ignores the look-alike labels');
SELECT is(:'customer_enabled'::boolean, false, 'is_lead_enabled() ignores the look-alike category table');
SELECT is(:'group_en'::text, 'Potential customer', 'category_group_name() under the hostile search_path');

-- unmanage and manage again
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT lives_ok($$SELECT pg_temp.hostile('SELECT lead_mgmt.unmanage()')$$, 'unmanage() under the hostile search_path');
SELECT is_empty('SELECT * FROM lead_mgmt.registration', 'unmanage(): the registration is gone');

SELECT * FROM finish();
ROLLBACK;
