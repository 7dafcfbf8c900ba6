-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Hostile input (SPEC sections 6 and 7): NULLs, empty strings, 10 kB
-- strings, wrong types, unknown keys and members, SQL fragments, quotes,
-- dots and spaces in names, malformed languages, out-of-range numbers and
-- Unicode edge cases (combining marks, bidirectional controls, emoji,
-- noncharacters, long multibyte text), given to every user-callable
-- function, every lead_mgmt.* setting, every catalog, the managed tables,
-- the views and saved-selection criteria.
--
-- Each refusal is checked three ways: its SQLSTATE (throws_ok), a message
-- that names the offending value (a prefix of it for 10 kB values) with a
-- HINT where lead_mgmt raises the error (PostgreSQL's own type and privilege
-- errors carry none), and, per group, a snapshot showing that nothing
-- changed.  Values accepted by design are checked to be stored exactly.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(382);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_hostile_clerk') THEN
        CREATE ROLE lm_hostile_clerk;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_hostile_admin') THEN
        CREATE ROLE lm_hostile_admin IN ROLE lead_mgmt_admin;
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Helpers
------------------------------------------------------------------------------

-- Runs a statement that is to be refused.  Should it be accepted, its
-- effects are undone all the same and the refusal shows as SQLSTATE P0001.
CREATE FUNCTION pg_temp.attempt(sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RAISE EXCEPTION 'accepted: %', left(sql, 200) USING ERRCODE = 'P0001';
END
$$;

-- The error a statement raises (it is always rolled back).
CREATE FUNCTION pg_temp.caught(sql text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.attempt(sql);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END
$$;

-- Text fit for a diagnostic line: at most 160 characters, invalid
-- encoding shown as escaped bytes.
CREATE FUNCTION pg_temp.shown(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF t IS NULL THEN
        RETURN '(none)';
    END IF;
    BEGIN
        t := convert_from(convert_to(t, 'UTF8'), 'UTF8');
    EXCEPTION WHEN OTHERS THEN
        t := '(invalid UTF-8) ' || encode(textsend(t), 'escape');
    END;
    RETURN replace(left(t, 160), E'\n', ' ');
END
$$;

-- One hostile input, two tests: the SQLSTATE (throws_ok), and a message
-- that contains needle (the offending value, or a prefix of it), with a
-- HINT unless the error is PostgreSQL's own (with_hint false).
CREATE FUNCTION pg_temp.refused(sql text, state text, needle text, what text, with_hint boolean DEFAULT true)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    first text;
    good boolean;
BEGIN
    first := throws_ok(format('SELECT pg_temp.attempt(%L)', sql), state::char(5), NULL::text,
                       format('%s -> %s', what, state));
    c := pg_temp.caught(sql);
    good := c.message IS NOT NULL AND strpos(c.message, needle) > 0
            AND (NOT with_hint OR coalesce(c.hint, '') <> '');
    RETURN first || E'\n'
        || ok(good, format('%s: the message names the value%s', what,
                           CASE WHEN with_hint THEN ', with a hint' ELSE '' END))
        || CASE WHEN good THEN '' ELSE E'\n' || diag(format(
               E'    caught: %s\n   message: %s\n      hint: %s\n  expected: the message to contain %s%s',
               coalesce(c.state, '(nothing)'), pg_temp.shown(c.message), pg_temp.shown(c.hint),
               pg_temp.shown(needle), CASE WHEN with_hint THEN ' and a hint' ELSE '' END)) END;
END
$$;

-- Everything a refusal could touch, as text: the catalogs, selections,
-- category rules, the registration and what manage() adds to tables, the
-- test tables' columns and rows, status history, the counts and the
-- settings.  "Nothing changed" compares two of these.
CREATE FUNCTION pg_temp.snapshot() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    snap text;
    part text;
BEGIN
    SELECT concat_ws(E'\n',
        (SELECT string_agg(c::text, ' ' ORDER BY c.key) FROM lead_mgmt.category c),
        (SELECT string_agg(s::text, ' ' ORDER BY s.key) FROM lead_mgmt.lead_status s),
        (SELECT string_agg(t::text, ' ' ORDER BY t.from_status, t.to_status) FROM lead_mgmt.status_transition t),
        (SELECT string_agg(l::text, ' ' ORDER BY l.category, l.language) FROM lead_mgmt.category_label l),
        (SELECT string_agg(l::text, ' ' ORDER BY l.status, l.language) FROM lead_mgmt.lead_status_label l),
        (SELECT string_agg(l::text, ' ' ORDER BY l.category_group, l.language) FROM lead_mgmt.category_group_label l),
        (SELECT string_agg(r::text, ' ' ORDER BY r.status, r.category) FROM lead_mgmt.category_rule r),
        (SELECT string_agg(format('%s|%s|%s|%s|%s', x.name, x.entity, x.criteria, x.description, x.created_by), ' '
                           ORDER BY x.name) FROM lead_mgmt.selection x),
        (SELECT string_agg(format('%s %s %s %s %s %s %s', r.company_table, r.person_table, r.company_key,
                                  r.person_key, r.company_column, r.category_column, r.lead_status_column), ' ')
           FROM lead_mgmt.registration r),
        (SELECT string_agg(format('trigger %s on %s', t.tgname, t.tgrelid::regclass), ' '
                           ORDER BY t.tgrelid::regclass::text, t.tgname)
           FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid
          WHERE p.pronamespace = 'lead_mgmt'::regnamespace AND c.relnamespace <> 'lead_mgmt'::regnamespace),
        (SELECT string_agg(format('fk %s on %s', conname, conrelid::regclass), ' ' ORDER BY conrelid::regclass::text, conname)
           FROM pg_constraint
          WHERE contype = 'f' AND confrelid IN ('lead_mgmt.category'::regclass, 'lead_mgmt.lead_status'::regclass)
            AND connamespace <> 'lead_mgmt'::regnamespace),
        (SELECT string_agg(format('%s.%I', c.oid::regclass, a.attname), ' ' ORDER BY c.oid::regclass::text, a.attnum)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind = 'r' AND n.nspname LIKE 'crm%'),
        (SELECT string_agg(c::text, ' ' ORDER BY c.id) FROM crm.company c),
        (SELECT string_agg(p::text, ' ' ORDER BY p.id) FROM crm.person p),
        (SELECT string_agg(format('%s=%s', g, current_setting(g, true)), ' ' ORDER BY g)
           FROM unnest(ARRAY['lead_mgmt.language', 'lead_mgmt.reentry', 'lead_mgmt.enforce',
                             'lead_mgmt.track_history', 'lead_mgmt.source']) g),
        current_user) INTO snap;
    IF to_regclass('lead_mgmt.status_history') IS NOT NULL THEN
        EXECUTE 'SELECT string_agg(h::text, '' '' ORDER BY h.seq) FROM lead_mgmt.status_history h' INTO part;
        snap := concat_ws(E'\n', snap, part);
    END IF;
    IF EXISTS (SELECT FROM lead_mgmt.registration) AND to_regclass('lead_mgmt.count_delta') IS NOT NULL THEN
        EXECUTE $q$SELECT string_agg(format('%s:%s/%s/%s=%s', k, x.category, x.status, x.owner, x.n), ' '
                                     ORDER BY k, x.category, x.status, x.owner)
                     FROM unnest(ARRAY['p', 'o', 'c']::"char"[]) k, lead_mgmt.count_summary(k) x$q$ INTO part;
        snap := concat_ws(E'\n', snap, part);
    END IF;
    RETURN snap;
END
$$;

------------------------------------------------------------------------------
-- The CRM's tables
------------------------------------------------------------------------------

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL, owner text);
CREATE INDEX person_company_id_idx ON crm.person (company_id);
INSERT INTO crm.company VALUES (1, 'Acme'), (2, 'Bolt');
INSERT INTO crm.person (id, company_id, name, owner) VALUES (1, 1, 'Ada', 'alice'), (2, 2, 'Bo', NULL), (3, NULL, 'Cy', NULL);

------------------------------------------------------------------------------
-- manage(): table and column arguments (nothing managed yet)
------------------------------------------------------------------------------

SELECT pg_temp.snapshot() AS before \gset

SELECT pg_temp.refused(format('SELECT lead_mgmt.manage(%L, %L)', repeat('x', 10000), 'crm.person'),
    '42P01', repeat('x', 32), 'manage(): company table of 10 kB name', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', '"x''); DROP TABLE crm.person; --"')$$,
    '42P01', 'x''); DROP TABLE crm.person; --', 'manage(): person table named by an SQL fragment', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', '"crm"."my person"')$$,
    '42P01', 'crm.my person', 'manage(): person table name with a space', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm."o''brien"', 'crm.person')$$,
    '42P01', 'o''brien', 'manage(): company table name with a single quote', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'lead_mgmt_tap.crm.person.x')$$,
    '42601', 'lead_mgmt_tap.crm.person.x', 'manage(): person table name with too many dots', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.manage(12345678::oid::regclass, 'crm.person')$$,
    '42P01', '12345678', 'manage(): company table given as the OID of no relation');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person_company_id_idx')$$,
    '42809', 'person_company_id_idx', 'manage(): person table that is an index');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.company')$$,
    '22023', 'crm.company', 'manage(): the same table as company and person');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('pg_catalog.pg_class', 'crm.person')$$,
    '42830', 'pg_catalog.pg_class', 'manage(): a system catalog as company table');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage(NULL, 'crm.person')$$,
    '22004', 'company_table', 'manage(): NULL company table');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', category_column => NULL)$$,
    '22004', 'category_column', 'manage(): NULL category column');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', category_column => '')$$,
    '42602', 'category_column', 'manage(): empty category column name');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', company_column => 'x''); DROP TABLE crm.person; --')$$,
    '42703', 'x''); DROP TABLE crm.person; --', 'manage(): company column named by an SQL fragment');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', company_column => '')$$,
    '42602', 'company_column', 'manage(): empty company column name');
SELECT pg_temp.refused(format('SELECT lead_mgmt.manage(%L, %L, label_column => %L)', 'crm.company', 'crm.person', repeat('x', 10000)),
    '42703', repeat('x', 32), 'manage(): label column of 10 kB name');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', owner_column => 'ow ner')$$,
    '42703', 'ow ner', 'manage(): owner column name with a space');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', owner_column => 'company_id')$$,
    '42701', 'company_id', 'manage(): owner column that is the company column');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', lead_status_column => 'ctid')$$,
    '42701', 'ctid', 'manage(): lead status column that is a system column');
SELECT pg_temp.refused($$SELECT lead_mgmt.manage('crm.company', 'crm.person', category_column => 'id')$$,
    '42701', '"id"', 'manage(): category column that is the company key');
SELECT is(pg_temp.snapshot(), :'before', 'manage(): the refusals above changed nothing');

-- accepted by design: quotes, dots, spaces and SQL fragments in names are
-- names like any other
CREATE SCHEMA "crm 2";
CREATE TABLE "crm 2"."co.mpany" (id int PRIMARY KEY, name text);
CREATE TABLE "crm 2"."per son" (id int PRIMARY KEY, company_id int REFERENCES "crm 2"."co.mpany", name text);
SELECT lives_ok($$SELECT lead_mgmt.manage('"crm 2"."co.mpany"', '"crm 2"."per son"',
                                          category_column => 'x''); DROP TABLE crm.person; --')$$,
    'manage(): accepted: dotted and spaced table names, a category column named by an SQL fragment');
SELECT is((SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a
            WHERE a.attrelid = '"crm 2"."co.mpany"'::regclass AND a.attnum > 0 AND NOT a.attisdropped)
          || ' ' || coalesce(to_regclass('crm.person')::text, 'gone'),
          'id,name,x''); DROP TABLE crm.person; -- crm.person',
          'manage(): the category column has exactly that name, and crm.person is still there');
DO $$ BEGIN IF EXISTS (SELECT FROM lead_mgmt.registration) THEN PERFORM lead_mgmt.unmanage(); END IF; END $$;

CREATE SCHEMA "crm'3";
CREATE TABLE "crm'3"."o'brien" (id int PRIMARY KEY, name text);
CREATE TABLE "crm'3"."o'brien's people" (id int PRIMARY KEY, company_id int REFERENCES "crm'3"."o'brien", name text);
SELECT lives_ok($$SELECT lead_mgmt.manage('"crm''3"."o''brien"', '"crm''3"."o''brien''s people"')$$,
    'manage(): accepted: schema and table names with single quotes');
SELECT is((SELECT person_table::text FROM lead_mgmt.registration), '"crm''3"."o''brien''s people"',
    'manage(): the registration names the quoted tables exactly');
DO $$ BEGIN IF EXISTS (SELECT FROM lead_mgmt.registration) THEN PERFORM lead_mgmt.unmanage(); END IF; END $$;

------------------------------------------------------------------------------
-- The managed pair for everything below
------------------------------------------------------------------------------

DO $$ BEGIN PERFORM lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name', owner_column => 'owner'); END $$;
UPDATE crm.company SET category = 'lead' WHERE id = 1;
UPDATE crm.company SET category = 'customer' WHERE id = 2;
INSERT INTO lead_mgmt.category (key, name, category_group, rank) VALUES ('vendor', 'Vendor', 'other', 9);
INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('open leads', '{"lead_status": ["open"]}');

SELECT is((SELECT string_agg(format('%s:%s', id, coalesce(lead_status, '-')), ' ' ORDER BY id) FROM crm.person),
    '1:open 2:- 3:-', 'fixture: Ada is an open lead, Bo is a customer''s person, Cy has no company');

------------------------------------------------------------------------------
-- Settings
------------------------------------------------------------------------------

SELECT pg_temp.snapshot() AS before \gset

SELECT pg_temp.refused($$SET lead_mgmt.language = ''$$,
    '22023', '""', 'lead_mgmt.language: empty string');
SELECT pg_temp.refused($$SET lead_mgmt.language = 'EN'$$,
    '22023', '"EN"', 'lead_mgmt.language: upper case');
SELECT pg_temp.refused($$SET lead_mgmt.language = 'en_US; DROP TABLE crm.person'$$,
    '22023', 'en_US; DROP TABLE crm.person', 'lead_mgmt.language: SQL fragment');
SELECT pg_temp.refused(format('SET lead_mgmt.language = %L', repeat('x', 10000)),
    '22023', repeat('x', 32), 'lead_mgmt.language: 10 kB value');
SELECT pg_temp.refused($$SET lead_mgmt.language = 'xx'$$,
    '22023', '"xx"', 'lead_mgmt.language: a language without labels');
SELECT pg_temp.refused($$SET lead_mgmt.reentry = 'keep'$$,
    '22023', '"keep"', 'lead_mgmt.reentry: unknown policy');
SELECT pg_temp.refused($$SET lead_mgmt.reentry = ''$$,
    '22023', '""', 'lead_mgmt.reentry: empty string');
SELECT pg_temp.refused(format('SET lead_mgmt.reentry = %L', repeat('x', 10000)),
    '22023', repeat('x', 32), 'lead_mgmt.reentry: 10 kB value');
-- PostgreSQL parses Boolean settings itself: its message names the
-- setting, not the value
SELECT pg_temp.refused($$SET lead_mgmt.enforce = 'maybe'$$,
    '22023', 'lead_mgmt.enforce', 'lead_mgmt.enforce: not a Boolean', false);
SELECT pg_temp.refused($$SET lead_mgmt.track_history = 'sometimes'$$,
    '22023', 'lead_mgmt.track_history', 'lead_mgmt.track_history: not a Boolean', false);
SELECT pg_temp.refused($$SET ROLE lm_hostile_clerk; SET lead_mgmt.enforce = off$$,
    '42501', 'lead_mgmt.enforce', 'lead_mgmt.enforce: off by an ordinary role');
SELECT pg_temp.refused($$SET ROLE lm_hostile_clerk; SELECT set_config('lead_mgmt.track_history', 'off', true)$$,
    '42501', 'lead_mgmt.track_history', 'lead_mgmt.track_history: off by an ordinary role (set_config)');
SELECT pg_temp.refused($$SET lead_mgmt.enfoce = off$$,
    '42602', 'lead_mgmt.enfoce', 'lead_mgmt.*: a misspelt setting', false);

------------------------------------------------------------------------------
-- Label functions
------------------------------------------------------------------------------

SELECT pg_temp.refused($$SELECT lead_mgmt.status_name('')$$,
    '23503', 'lead status ""', 'status_name(): empty key');
SELECT pg_temp.refused($$SELECT lead_mgmt.status_name(repeat('x', 10000))$$,
    '23503', repeat('x', 32), 'status_name(): 10 kB key');
SELECT pg_temp.refused($$SELECT lead_mgmt.status_name('open''; DROP TABLE crm.person; --')$$,
    '23503', 'open''; DROP TABLE crm.person; --', 'status_name(): SQL fragment');
SELECT pg_temp.refused($$SELECT lead_mgmt.status_name('OPEN')$$,
    '23503', '"OPEN"', 'status_name(): upper-case key');
SELECT pg_temp.refused($$SELECT lead_mgmt.status_name(E'ope\u0301n')$$,
    '23503', E'ope\u0301n', 'status_name(): key with a combining accent');
SELECT pg_temp.refused($$SELECT lead_mgmt.status_description(E'\u200Fopen')$$,
    '23503', E'\u200Fopen', 'status_description(): key behind a right-to-left mark');
SELECT pg_temp.refused($$SELECT lead_mgmt.category_name(E'\U0001F600')$$,
    '23503', E'\U0001F600', 'category_name(): emoji key');
SELECT pg_temp.refused($$SELECT lead_mgmt.category_description(E'lead\uFFFF')$$,
    '23503', E'lead\uFFFF', 'category_description(): key ending in the noncharacter U+FFFF');
SELECT pg_temp.refused($$SELECT lead_mgmt.category_name(repeat('ø', 5000))$$,
    '23503', repeat('ø', 32), 'category_name(): 10 kB of two-byte characters');
SELECT pg_temp.refused($$SELECT lead_mgmt.category_group_name('prospect')$$,
    '22P02', '"prospect"', 'category_group_name(): unknown group', false);
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.category_group_labels('')$$,
    '22P02', '""', 'category_group_labels(): empty group', false);
SELECT is(pg_temp.snapshot(), :'before', 'settings, label functions: the refusals above changed nothing');

------------------------------------------------------------------------------
-- Counts, history, analytics, selections, Citus
------------------------------------------------------------------------------

SELECT pg_temp.snapshot() AS before \gset

SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.count_summary('x')$$,
    '22023', '"x"', 'count_summary(): unknown kind');
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.count_summary('P')$$,
    '22023', '"P"', 'count_summary(): upper-case kind');
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.count_summary('')$$,
    '22023', 'count ""', 'count_summary(): empty kind');
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.count_summary('ø')$$,
    '22023', '"\303"', 'count_summary(): a non-ASCII kind');
SELECT pg_temp.refused($$SELECT lead_mgmt.purge_history('not a time')$$,
    '22007', '"not a time"', 'purge_history(): not a timestamp', false);
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.status_counts_at('294277-01-01')$$,
    '22008', '294277-01-01', 'status_counts_at(): a moment out of range', false);
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.funnel(NULL, NULL, 'lead')$$,
    '22P02', '"lead"', 'funnel(): categories not given as an array', false);
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.funnel('soon', NULL)$$,
    '22007', '"soon"', 'funnel(): period start not a timestamp', false);
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.selection_members('')$$,
    '42704', 'selection ""', 'selection_members(): empty name');
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.selection_members(repeat('x', 10000))$$,
    '42704', repeat('x', 32), 'selection_members(): 10 kB name');
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.selection_members('x''; DROP TABLE crm.person; --')$$,
    '42704', 'x''; DROP TABLE crm.person; --', 'selection_members(): SQL fragment');
SELECT pg_temp.refused($$SELECT * FROM lead_mgmt.selection_members(E'open leads\u200B')$$,
    '42704', E'open leads\u200B', 'selection_members(): a name with a trailing zero-width space');
SELECT pg_temp.refused($$SELECT lead_mgmt.distribute(0)$$,
    '22023', 'shard_count 0', 'distribute(): zero shards');
SELECT pg_temp.refused($$SELECT lead_mgmt.distribute(64001)$$,
    '22023', '64001', 'distribute(): too many shards');
SELECT pg_temp.refused($$SELECT lead_mgmt.distribute(-2147483648)$$,
    '22023', '-2147483648', 'distribute(): the most negative integer');
SELECT pg_temp.refused($$SELECT lead_mgmt.distribute('many')$$,
    '22P02', '"many"', 'distribute(): not a number', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.is_distributed('"x''); DROP TABLE crm.person; --"')$$,
    '42P01', 'x''); DROP TABLE crm.person; --', 'is_distributed(): a table named by an SQL fragment', false);
SELECT is(pg_temp.snapshot(), :'before', 'counts, history, analytics, selections: the refusals above changed nothing');

------------------------------------------------------------------------------
-- advance_category(), next_category(), merge_status()
------------------------------------------------------------------------------

SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category(1, NULL)$$,
    '22004', 'NULL category', 'advance_category(): NULL category');
SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category(1, '')$$,
    '23503', 'category ""', 'advance_category(): empty category');
SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category(1, repeat('x', 10000))$$,
    '23503', repeat('x', 32), 'advance_category(): 10 kB category');
SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category(1, 'mql''; DROP TABLE crm.person; --')$$,
    '23503', 'mql''; DROP TABLE crm.person; --', 'advance_category(): SQL fragment');
SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category(1, 'Lead')$$,
    '23503', '"Lead"', 'advance_category(): capitalised category');
SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category(-2147483648, 'mql')$$,
    '23503', '-2147483648', 'advance_category(): the most negative company key');
SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category('2147483648', 'mql')$$,
    '22003', '2147483648', 'advance_category(): company key beyond the key type', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.advance_category('one', 'mql')$$,
    '22P02', '"one"', 'advance_category(): company key of the wrong type', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.next_category(NULL)$$,
    '22004', 'NULL', 'next_category(): NULL company');
SELECT pg_temp.refused($$SELECT lead_mgmt.next_category(-1)$$,
    '23503', 'company -1', 'next_category(): negative company key');
SELECT pg_temp.refused($$SELECT lead_mgmt.next_category('1; DROP TABLE crm.person')$$,
    '22P02', '1; DROP TABLE crm.person', 'next_category(): SQL fragment as company key', false);
SELECT pg_temp.refused($$SELECT lead_mgmt.merge_status(NULL, NULL)$$,
    '22004', 'old_key', 'merge_status(): NULL keys');
SELECT pg_temp.refused($$SELECT lead_mgmt.merge_status('', 'open')$$,
    '23503', 'lead status ""', 'merge_status(): empty old key');
SELECT pg_temp.refused($$SELECT lead_mgmt.merge_status(repeat('x', 10000), 'open')$$,
    '23503', repeat('x', 32), 'merge_status(): 10 kB old key');
SELECT pg_temp.refused($$SELECT lead_mgmt.merge_status('renurture', 'open''; DROP TABLE crm.person; --')$$,
    '23503', 'open''; DROP TABLE crm.person; --', 'merge_status(): SQL fragment as new key');
SELECT pg_temp.refused($$SELECT lead_mgmt.merge_status('Renurture', 'open')$$,
    '23503', '"Renurture"', 'merge_status(): capitalised old key');
SELECT pg_temp.refused($$SELECT lead_mgmt.merge_status('renurture', E'open\u200F')$$,
    '23503', E'open\u200F', 'merge_status(): new key with a trailing right-to-left mark');
SELECT is(pg_temp.snapshot(), :'before', 'advance_category(), next_category(), merge_status(): the refusals above changed nothing');

------------------------------------------------------------------------------
-- The managed tables: lead status and category values
------------------------------------------------------------------------------

SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = repeat('x', 10000) WHERE id = 1$$,
    '23503', repeat('x', 32), 'person lead status: 10 kB key');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = 'open''; DROP TABLE crm.person; --' WHERE id = 1$$,
    '23503', 'open''; DROP TABLE crm.person; --', 'person lead status: SQL fragment');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = '' WHERE id = 1$$,
    '23503', 'lead status ""', 'person lead status: empty string');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = NULL WHERE id = 1$$,
    '23502', 'lead status', 'person lead status: NULL on a visible status');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = 'Open' WHERE id = 1$$,
    '23503', '"Open"', 'person lead status: capitalised key');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = E'open\u0301' WHERE id = 1$$,
    '23503', E'open\u0301', 'person lead status: key with a combining accent');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = E'\u202Eopen' WHERE id = 1$$,
    '23503', E'\u202Eopen', 'person lead status: key behind a right-to-left override');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = E'open\U0001F600' WHERE id = 1$$,
    '23503', E'open\U0001F600', 'person lead status: key with an emoji');
SELECT pg_temp.refused($$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (9, 1, 'Zed', repeat('ø', 5000))$$,
    '23503', repeat('ø', 32), 'person lead status: 10 kB of two-byte characters on insert');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 2$$,
    '23L01', '"qualified"', 'person lead status: set on a hidden person');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3$$,
    '23L02', '"qualified"', 'person lead status: set on a person without a company');
SELECT pg_temp.refused($$UPDATE crm.person SET lead_status = 'qualified' WHERE id IN (1, 2)$$,
    '23L01', '"qualified"', 'person lead status: one statement setting a visible and a hidden person');
SELECT pg_temp.refused($$UPDATE crm.company SET category = repeat('x', 10000) WHERE id = 1$$,
    '23503', repeat('x', 32), 'company category: 10 kB key');
SELECT pg_temp.refused($$UPDATE crm.company SET category = 'lead''; DROP TABLE crm.person; --' WHERE id = 1$$,
    '23503', 'lead''; DROP TABLE crm.person; --', 'company category: SQL fragment');
SELECT pg_temp.refused($$UPDATE crm.company SET category = '' WHERE id = 1$$,
    '23503', 'category ""', 'company category: empty string');
SELECT pg_temp.refused($$UPDATE crm.company SET category = E'lead\uFFFF' WHERE id = 1$$,
    '23503', E'lead\uFFFF', 'company category: key ending in U+FFFF');
SELECT pg_temp.refused($$INSERT INTO crm.company VALUES (3, 'Cargo', 'LEAD')$$,
    '23503', '"LEAD"', 'company category: upper-case key on insert');
SELECT pg_temp.refused($$INSERT INTO crm.company VALUES (3, 'Cargo', E'\U0001F3E2')$$,
    '23503', E'\U0001F3E2', 'company category: emoji key on insert');
SELECT is(pg_temp.snapshot(), :'before', 'managed tables: the refusals above changed nothing');

------------------------------------------------------------------------------
-- Catalogs: category and lead_status
------------------------------------------------------------------------------

SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name) VALUES (repeat('x', 10000), 'X')$$,
    '22023', repeat('x', 32), 'category: 10 kB key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name) VALUES ('x''); DROP TABLE crm.person; --', 'X')$$,
    '22023', 'x''); DROP TABLE crm.person; --', 'category: SQL fragment as key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name) VALUES ('', 'X')$$,
    '22023', 'key ""', 'category: empty key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name) VALUES (E'vi\u0301p', 'VIP')$$,
    '22023', E'vi\u0301p', 'category: key with a combining accent');
SELECT pg_temp.refused($$UPDATE lead_mgmt.category SET key = 'Partner' WHERE key = 'partner'$$,
    '22023', '"Partner"', 'category: key changed to a capitalised one');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name) VALUES ('vip', '')$$,
    '23514', '"vip"', 'category: empty name');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name) VALUES ('vip', E' \t\n')$$,
    '23514', '"vip"', 'category: name of spaces, a tab and a newline');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name) VALUES ('vip', E'\r')$$,
    '23514', '"vip"', 'category: name of a carriage return');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name, category_group) VALUES ('vip', 'VIP', 'prospect')$$,
    '22P02', '"prospect"', 'category: unknown group', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name, rank) VALUES ('vip', 'VIP', '2147483648')$$,
    '22003', '2147483648', 'category: rank beyond integer', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name, enable_lead_status) VALUES ('vip', 'VIP', 'maybe')$$,
    '22P02', '"maybe"', 'category: flag that is not a Boolean', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status) VALUES ('vip', 'VIP', 'other', true)$$,
    '23L05', '"vip"', 'rule C1: lead status on a new category of group other');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES (repeat('x', 10000), 'X')$$,
    '22023', repeat('x', 32), 'lead_status: 10 kB key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES (E'\U0001F525', 'Hot')$$,
    '22023', E'\U0001F525', 'lead_status: emoji key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('hot', '   ')$$,
    '23514', '"hot"', 'lead_status: name of spaces');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('hot', E'\u00A0\u3000')$$,
    '23514', '"hot"', 'lead_status: name of Unicode spaces (no-break, ideographic)');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status (key, name, kind) VALUES ('hot', 'Hot', 'warm')$$,
    '22P02', '"warm"', 'lead_status: unknown kind', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status (key, name, stale_after_days) VALUES ('hot', 'Hot', 0)$$,
    '23514', 'is 0', 'lead_status: stale_after_days 0');
SELECT pg_temp.refused($$UPDATE lead_mgmt.lead_status SET stale_after_days = -2147483648 WHERE key = 'contacting'$$,
    '23514', '-2147483648', 'lead_status: stale_after_days the most negative integer');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status (key, name, stale_after_days) VALUES ('hot', 'Hot', '99999999999')$$,
    '22003', '99999999999', 'lead_status: stale_after_days beyond integer', false);
SELECT pg_temp.refused($$UPDATE lead_mgmt.lead_status SET is_default = NULL WHERE key = 'open'$$,
    '23L06', '"open"', 'rule S1: the default flag set to NULL');
SELECT is(pg_temp.snapshot(), :'before', 'category, lead_status: the refusals above changed nothing');

------------------------------------------------------------------------------
-- Catalogs: transition rules, labels, category rules
------------------------------------------------------------------------------

SELECT pg_temp.refused($$INSERT INTO lead_mgmt.status_transition VALUES ('open', 'nope')$$,
    '23503', '"nope"', 'status_transition: unknown target');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.status_transition VALUES (repeat('x', 10000), 'open')$$,
    '23503', repeat('x', 32), 'status_transition: 10 kB source');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.status_transition VALUES ('open', 'contacting''); DROP TABLE crm.person; --')$$,
    '23503', 'contacting''); DROP TABLE crm.person; --', 'status_transition: SQL fragment as target');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.status_transition VALUES ('open', 'open')$$,
    '23514', '"open"', 'status_transition: a move to the same status');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.status_transition VALUES (NULL, 'open')$$,
    '23502', 'from_status', 'status_transition: NULL source', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'xx-', 'X')$$,
    '22023', '"xx-"', 'lead_status_label: language with a dangling hyphen');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', repeat('x', 10000), 'X')$$,
    '22023', repeat('x', 32), 'lead_status_label: 10 kB language');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'EN', 'X')$$,
    '22023', '"EN"', 'lead_status_label: upper-case language');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', '', 'X')$$,
    '22023', 'language ""', 'lead_status_label: empty language');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'de''; DROP TABLE crm.person; --', 'X')$$,
    '22023', 'de''; DROP TABLE crm.person; --', 'lead_status_label: SQL fragment as language');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'nb', 'Åpen igjen')$$,
    '23505', '"nb"', 'lead_status_label: a second label for a key and language');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('nope', 'de', 'X')$$,
    '23503', '"nope"', 'lead_status_label: unknown status');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'de', '')$$,
    '23514', '"open"', 'lead_status_label: empty name');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_label (category, language, name) VALUES ('lead', 'dé', 'X')$$,
    '22023', '"dé"', 'category_label: language with a non-ASCII letter');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_label (category, language, name) VALUES (repeat('x', 10000), 'de', 'X')$$,
    '23503', repeat('x', 32), 'category_label: 10 kB category');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_group_label (category_group, language, name) VALUES ('lost', 'de_AT_vienna', 'X')$$,
    '22023', '"de_AT_vienna"', 'category_group_label: language with two subtags');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_group_label (category_group, language, name) VALUES ('lost', 'de', E'\t')$$,
    '23514', '"lost"', 'category_group_label: name of a tab');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_group_label (category_group, language, name) VALUES ('prospect', 'de', 'X')$$,
    '22P02', '"prospect"', 'category_group_label: unknown group', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_rule (status, category) VALUES (repeat('x', 10000), 'customer')$$,
    '23503', repeat('x', 32), 'category_rule: 10 kB status');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('qualified', 'customer''); DROP TABLE crm.person; --')$$,
    '23503', 'customer''); DROP TABLE crm.person; --', 'category_rule: SQL fragment as category');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('qualified', '')$$,
    '23503', 'category ""', 'category_rule: empty category');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_rule (status, category) VALUES (NULL, 'customer')$$,
    '23502', 'status', 'category_rule: NULL status');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('qualified', 'customer', 'sometimes')$$,
    '22P02', '"sometimes"', 'category_rule: automatic that is not a Boolean', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('qualified', 'vendor')$$,
    '23L10', '"vendor"', 'rule A2: a rule to a category of group other');
SELECT is(pg_temp.snapshot(), :'before', 'transition rules, labels, category rules: the refusals above changed nothing');

------------------------------------------------------------------------------
-- Saved selections: criteria, entity, name
------------------------------------------------------------------------------

SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"lead_status": ["open"], "stage": ["x"]}')$$,
    '22023', '"stage"', 'selection: unknown member');
SELECT pg_temp.refused(format('INSERT INTO lead_mgmt.selection (name, criteria) VALUES (%L, %L)',
                              's', jsonb_build_object(repeat('k', 10000), jsonb_build_array('open'))),
    '22023', repeat('k', 32), 'selection: member of 10 kB name');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"Lead_Status": ["open"]}')$$,
    '22023', '"Lead_Status"', 'selection: capitalised member');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"lead_status ": ["open"]}')$$,
    '22023', '"lead_status "', 'selection: member with a trailing space');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '[]')$$,
    '22023', '[]', 'selection: criteria an array');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', 'null')$$,
    '22023', 'null', 'selection: criteria a JSON null');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '"lead"')$$,
    '22023', '"lead"', 'selection: criteria a JSON string');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"lead_status": "open"}')$$,
    '22023', '"open"', 'selection: a string where an array belongs');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"lead_status": []}')$$,
    '22023', '[]', 'selection: an empty array');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"lead_status": [null]}')$$,
    '22023', 'null', 'selection: a null key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"not_category": [1]}')$$,
    '22023', 'lists 1', 'selection: a number where a key belongs');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"lead_status": [["open"]]}')$$,
    '22023', '["open"]', 'selection: a nested array');
SELECT pg_temp.refused(format('INSERT INTO lead_mgmt.selection (name, criteria) VALUES (%L, %L)',
                              's', jsonb_build_object('lead_status', jsonb_build_array(repeat('x', 10000)))),
    '22023', repeat('x', 32), 'selection: 10 kB status key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"category": ["lead''); DROP TABLE crm.person; --"]}')$$,
    '22023', 'lead''); DROP TABLE crm.person; --', 'selection: SQL fragment as category key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"category_group": ["Customer"]}')$$,
    '22023', '"Customer"', 'selection: capitalised category group');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"lead_status": ["OPEN"]}')$$,
    '22023', '"OPEN"', 'selection: upper-case status key');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"not_lead_status": ["open\u200f"]}')$$,
    '22023', E'open\u200F', 'selection: status key with a trailing right-to-left mark');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"days_in_status_at_least": -1}')$$,
    '22023', '-1', 'selection: negative days');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"days_in_status_at_least": 1.5}')$$,
    '22023', '1.5', 'selection: fractional days');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"days_in_status_at_least": "14"}')$$,
    '22023', '"14"', 'selection: days as a string');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"days_in_status_at_least": true}')$$,
    '22023', 'true', 'selection: days as a Boolean');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"days_in_status_at_least": 99999999999}')$$,
    '22023', '99999999999', 'selection: days beyond integer');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('s', '{"days_in_status_at_least": 1e300}')$$,
    '22023', '1000000000', 'selection: days of 1e300');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, entity, criteria) VALUES ('s', 'company', '{"owner": ["alice"]}')$$,
    '22023', '"owner"', 'selection: a person member in a company selection');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name, entity) VALUES ('s', 'persons')$$,
    '23514', 'persons', 'selection: unknown entity');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.selection (name) VALUES (E' \t')$$,
    '23514', 'name', 'selection: name of a space and a tab');
SELECT pg_temp.refused($$UPDATE lead_mgmt.selection SET criteria = '{"lead_status": ["nope"]}' WHERE name = 'open leads'$$,
    '22023', '"nope"', 'selection: criteria changed to an unknown status');
SELECT is(pg_temp.snapshot(), :'before', 'saved selections: the refusals above changed nothing');

------------------------------------------------------------------------------
-- History, registration, count summary, views
------------------------------------------------------------------------------

SELECT pg_temp.refused($$UPDATE lead_mgmt.status_history SET source = 'x''); DROP TABLE crm.person; --'$$,
    '42501', 'status_history', 'status_history: rewriting sources');
SELECT pg_temp.refused($$DELETE FROM lead_mgmt.status_history WHERE person_id = 1$$,
    '42501', 'status_history', 'status_history: deleting a person''s rows');
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.status_history (company_id, person_id, to_status, event, changed_at, changed_by, visible)
                         VALUES (1, 1, 'open', 'teleported', now(), current_user, true)$$,
    '22P02', '"teleported"', 'status_history: appending an unknown event', false);
SELECT pg_temp.refused($$SET ROLE lm_hostile_admin; UPDATE lead_mgmt.registration SET person_table = company_table$$,
    '42501', 'registration', 'registration: rewritten by lead_mgmt_admin', false);
SELECT pg_temp.refused($$SET ROLE lm_hostile_admin; INSERT INTO lead_mgmt.count_delta (company_id, kind, category, status, n)
                         VALUES (1, 'p', 'lead', 'open', 1000000)$$,
    '42501', 'count_delta', 'count_delta: a forged count by lead_mgmt_admin', false);
SELECT pg_temp.refused($$INSERT INTO lead_mgmt.person_leads (person_id, lead_status) VALUES (1, 'qualified')$$,
    '55000', 'person_leads', 'person_leads: written through the view');
SELECT is(pg_temp.snapshot(), :'before', 'history, registration, count summary, views: the refusals above changed nothing');

------------------------------------------------------------------------------
-- Accepted by design, and stored exactly
------------------------------------------------------------------------------

-- free text recorded in history
SELECT lives_ok($$SET lead_mgmt.source = 'x''); DROP TABLE crm.person; --';
                  UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$,
    'lead_mgmt.source: an SQL fragment is accepted');
SELECT is((SELECT source FROM lead_mgmt.status_history WHERE person_id = 1 ORDER BY seq DESC LIMIT 1),
    'x''); DROP TABLE crm.person; --', 'lead_mgmt.source: recorded in history exactly');
SELECT lives_ok(format($$SET lead_mgmt.source = %L; UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1$$,
                       repeat(E'\u05D0\u0301\U0001F600', 2000)),
    'lead_mgmt.source: 10 kB of Hebrew, combining marks and emoji are accepted');
SELECT is((SELECT source FROM lead_mgmt.status_history WHERE person_id = 1 ORDER BY seq DESC LIMIT 1),
    repeat(E'\u05D0\u0301\U0001F600', 2000), 'lead_mgmt.source: recorded in history exactly');
RESET lead_mgmt.source;

-- policies are case-insensitive words
SELECT lives_ok($$SET lead_mgmt.reentry = 'RESTORE'$$, 'lead_mgmt.reentry: RESTORE is accepted');
SELECT is(current_setting('lead_mgmt.reentry'), 'restore', 'lead_mgmt.reentry: read as restore');
RESET lead_mgmt.reentry;

-- labels and names are free Unicode text, of any length
SELECT lives_ok($$INSERT INTO lead_mgmt.lead_status_label (status, language, name, description)
                  VALUES ('open', 'he', E'\u05E4\u05EA\u05D5\u05D7\u200F \U0001F600', E'e\u0301\uFFFF\U0010FFFF')$$,
    'lead_status_label: a name with right-to-left text, a mark and an emoji, a description with a combining accent and noncharacters');
SET lead_mgmt.language = 'he';
SELECT is(lead_mgmt.status_name('open') || '|' || lead_mgmt.status_description('open'),
    E'\u05E4\u05EA\u05D5\u05D7\u200F \U0001F600|e\u0301\uFFFF\U0010FFFF', 'lead_status_label: returned exactly in that language');
RESET lead_mgmt.language;
SELECT lives_ok($$UPDATE lead_mgmt.category SET name = repeat('Æ', 10000), rank = -2147483648 WHERE key = 'vendor'$$,
    'category: a 10 kB name and the most negative rank are accepted');
SELECT is((SELECT name = repeat('Æ', 10000) AND rank = -2147483648 FROM lead_mgmt.category WHERE key = 'vendor'), true,
    'category: stored exactly');
SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET stale_after_days = 2147483647 WHERE key = 'open'$$,
    'lead_status: the largest stale_after_days is accepted');
SELECT is((SELECT stale FROM lead_mgmt.aging WHERE lead_status = 'open'), 0::bigint,
    'lead_status: and nothing is stale after it');

-- owners are free text: a selection on one is data, never SQL
SELECT lives_ok($$INSERT INTO lead_mgmt.selection (name, criteria)
                  VALUES ('x''; DROP TABLE crm.person; --', '{"owner": ["x''); DROP TABLE crm.person; --", "alice"]}')$$,
    'selection: an SQL fragment as name and owner is accepted');
SELECT is((SELECT string_agg(person_id::text, ',') FROM lead_mgmt.selection_members('x''; DROP TABLE crm.person; --')),
    '1', 'selection: evaluated as data: alice''s lead only');

-- unknown keys are simply not lead-enabled, and have no labels to join
SELECT is(lead_mgmt.is_lead_enabled(repeat('x', 10000)), false, 'is_lead_enabled(): a 10 kB key is not lead-enabled');
SELECT is((SELECT count(*) FROM lead_mgmt.status_labels(E'open\u200F')), 0::bigint,
    'status_labels(): a key with a right-to-left mark joins no label');

-- hostile filters on the views find nothing and raise nothing
SELECT is((SELECT count(*) FROM lead_mgmt.person_leads
            WHERE lead_status = repeat('x', 10000) OR owner = E'\u202E' OR label = 'x''; --'), 0::bigint,
    'person_leads: hostile filter values match no row');
SELECT is((SELECT count(*) FROM lead_mgmt.board WHERE owner = 'x''); DROP TABLE crm.person; --'), 0::bigint,
    'board: an SQL fragment as owner matches no card');

------------------------------------------------------------------------------
-- After all of it
------------------------------------------------------------------------------

SELECT is((SELECT count(*) FROM crm.person), 3::bigint, 'crm.person is still there, with its three persons');
SELECT is_empty('SELECT * FROM lead_mgmt.verify_history()', 'status history replays to the stored statuses');
SELECT is_empty('SELECT * FROM lead_mgmt.verify_counts()', 'the count summary equals a recount');
INSERT INTO crm.person (id, company_id, name) VALUES (4, 1, 'Dag');
SELECT is((SELECT lead_status FROM crm.person WHERE id = 4), 'open', 'rule B1 still holds after every refusal');

SELECT * FROM finish();
ROLLBACK;
