-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- lead_mgmt.manage() and lead_mgmt.unmanage(): every refusal with its
-- SQLSTATE and no trace left, success with int, bigint, uuid and text keys
-- and with names that need quoting, reuse of existing columns, back-fill of
-- the default status (rule B1) and unmanage.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(162);

-- What manage() leaves behind: the registration, lead_mgmt triggers on
-- other tables, foreign keys to the catalogs, and the columns of every test
-- table.  "Nothing changed" compares two of these.
CREATE FUNCTION pg_temp.footprint() RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(E'\n',
        (SELECT string_agg(format('registration %s %s', company_table, person_table), ' ')
           FROM lead_mgmt.registration),
        (SELECT string_agg(format('trigger %s on %s', t.tgname, t.tgrelid::regclass), ' '
                           ORDER BY t.tgrelid::regclass::text, t.tgname)
           FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid
          WHERE p.pronamespace = 'lead_mgmt'::regnamespace
            AND c.relnamespace <> 'lead_mgmt'::regnamespace),
        (SELECT string_agg(format('fk %s on %s', conname, conrelid::regclass), ' '
                           ORDER BY conrelid::regclass::text, conname)
           FROM pg_constraint
          WHERE contype = 'f' AND confrelid IN ('lead_mgmt.category'::regclass, 'lead_mgmt.lead_status'::regclass)
            AND connamespace <> 'lead_mgmt'::regnamespace),
        (SELECT string_agg(format('%s.%I %s', c.oid::regclass, a.attname, format_type(a.atttypid, a.atttypmod)), ' '
                           ORDER BY c.oid::regclass::text, a.attnum)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped
            AND (n.nspname IN ('crm', 'crm2', 'bad') OR (n.oid = pg_my_temp_schema() AND c.relname NOT LIKE '\_\_%'))))
$$;

-- The registration, as text columns of the default collation.
CREATE FUNCTION pg_temp.reg() RETURNS TABLE (
    company_schema text, company_table text, company_key text, person_schema text, person_table text,
    person_key text, company_column text, category_column text, lead_status_column text,
    label_column text, owner_column text, category_fkey text, lead_status_fkey text)
LANGUAGE sql AS $$
    -- the tables are regclass (followed by OID); their names, as of now
    SELECT cn.nspname::text, cc.relname::text, r.company_key::text, pn.nspname::text, pc.relname::text,
           r.person_key::text, r.company_column::text, r.category_column::text, r.lead_status_column::text,
           r.label_column::text, r.owner_column::text, r.category_fkey::text, r.lead_status_fkey::text
      FROM lead_mgmt.registration r
      JOIN pg_class cc ON cc.oid = r.company_table JOIN pg_namespace cn ON cn.oid = cc.relnamespace
      JOIN pg_class pc ON pc.oid = r.person_table JOIN pg_namespace pn ON pn.oid = pc.relnamespace
$$;

-- The lead_mgmt triggers on a table.
CREATE FUNCTION pg_temp.lm_triggers(rel regclass) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(t.tgname::text ORDER BY t.tgname), '{}')
      FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE t.tgrelid = rel AND p.pronamespace = 'lead_mgmt'::regnamespace
$$;

CREATE SCHEMA crm;
CREATE SCHEMA bad;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL, category text);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
INSERT INTO crm.company VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'customer'), (3, 'Cargo', NULL), (4, 'Dyn', 'opportunity');
INSERT INTO crm.person VALUES (1, 1, 'Ada'), (2, 1, 'Alan'), (3, 2, 'Barbara'), (4, 3, 'Charles'), (5, NULL, 'Dennis'), (6, 4, 'Edsger');

------------------------------------------------------------------------------
-- Refusals
------------------------------------------------------------------------------

SELECT throws_ok('SELECT lead_mgmt.unmanage()', '42704', NULL, 'unmanage() with nothing managed is refused');

SELECT pg_temp.footprint() AS before \gset

SELECT throws_ok($$SELECT lead_mgmt.manage(NULL, 'crm.person')$$, '22004', NULL, 'manage(): a null company table is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', NULL)$$, '22004', NULL, 'manage(): a null person table is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', category_column => NULL)$$,
    '22004', NULL, 'manage(): a null category column is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', lead_status_column => NULL)$$,
    '22004', NULL, 'manage(): a null lead status column is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.company')$$,
    '22023', NULL, 'manage(): the same table as company and person is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused null and identical arguments leave no trace');

-- not ordinary tables
CREATE VIEW bad.company_view AS SELECT * FROM crm.company;
CREATE TABLE bad.person_parted (id int, company_id int REFERENCES crm.company, name text, PRIMARY KEY (id, company_id))
    PARTITION BY LIST (company_id);
CREATE MATERIALIZED VIEW bad.person_mv AS SELECT * FROM crm.person;
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT lead_mgmt.manage('bad.company_view', 'crm.person')$$,
    '42809', NULL, 'manage(): a view as company table is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_parted')$$,
    '0A000', 'bad.person_parted is a partitioned table', 'manage(): a partitioned person table is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_mv')$$,
    '42809', NULL, 'manage(): a materialized view as person table is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused relation kinds leave no trace');

-- temporary tables
CREATE TEMP TABLE company_tmp (id int PRIMARY KEY, name text);
-- (a temporary table cannot reference a permanent one; the check comes first)
CREATE TEMP TABLE person_tmp (id int PRIMARY KEY, company_id int, name text);
CREATE ACCESS METHOD lm_tap_heap_copy TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE bad.company_am (id int PRIMARY KEY, name text) USING lm_tap_heap_copy;
CREATE TABLE bad.person_of_am (id int PRIMARY KEY, company_id int REFERENCES bad.company_am);
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT lead_mgmt.manage('bad.company_am', 'bad.person_of_am')$$,
    '0A000', NULL, 'manage(): a table of another access method is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('pg_temp.company_tmp', 'crm.person')$$,
    '0A000', NULL, 'manage(): a temporary company table is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'pg_temp.person_tmp')$$,
    '0A000', NULL, 'manage(): a temporary person table is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused temporary and unsupported tables leave no trace');

-- primary keys
CREATE TABLE bad.company_nopk (id int UNIQUE, name text);
CREATE TABLE bad.person_of_nopk (id int PRIMARY KEY, company_id int REFERENCES bad.company_nopk (id));
CREATE TABLE bad.person_nopk (id int, company_id int REFERENCES crm.company);
CREATE TABLE bad.company_wide (region int, id int, name text, PRIMARY KEY (region, id));
CREATE TABLE bad.person_of_wide (id int PRIMARY KEY, region int, company_id int,
    FOREIGN KEY (region, company_id) REFERENCES bad.company_wide);
CREATE TABLE bad.person_wide (id int, tenant int, company_id int REFERENCES crm.company, PRIMARY KEY (id, tenant));
CREATE TABLE bad.person_wider (id int, tenant int, company_id int REFERENCES crm.company, PRIMARY KEY (id, tenant, company_id));
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT lead_mgmt.manage('bad.company_nopk', 'bad.person_of_nopk')$$,
    '42P16', NULL, 'manage(): a company table without primary key is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_nopk')$$,
    '42P16', NULL, 'manage(): a person table without primary key is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('bad.company_wide', 'bad.person_of_wide')$$,
    '42P16', NULL, 'manage(): a two-column company primary key is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_wide')$$,
    '42P16', NULL, 'manage(): a two-column person primary key without the company column is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_wider')$$,
    '42P16', NULL, 'manage(): a three-column person primary key is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused primary keys leave no trace');

-- the person -> company foreign key
CREATE TABLE bad.person_nofk (id int PRIMARY KEY, company_id int, name text);
CREATE TABLE bad.person_twofk (id int PRIMARY KEY, company_id int REFERENCES crm.company,
    billing_company_id int REFERENCES crm.company, name text);
ALTER TABLE crm.company ADD COLUMN org_no text UNIQUE;
CREATE TABLE bad.person_by_org (id int PRIMARY KEY, company_org text REFERENCES crm.company (org_no), name text);
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_nofk')$$,
    '42830', NULL, 'manage(): a person table without foreign key to the company table is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_twofk')$$,
    '42830', NULL, 'manage(): two foreign keys to the company table without company_column are refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_by_org')$$,
    '42830', NULL, 'manage(): a foreign key to another column than the company primary key is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', company_column => 'name')$$,
    '42830', NULL, 'manage(): a company_column without foreign key is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_of_wide')$$,
    '42830', NULL, 'manage(): a person table whose only foreign key goes elsewhere is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused foreign keys leave no trace');

-- columns
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', company_column => 'firm_id')$$,
    '42703', NULL, 'manage(): an unknown company_column is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'full_name')$$,
    '42703', NULL, 'manage(): an unknown label_column is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', owner_column => 'account_manager')$$,
    '42703', NULL, 'manage(): an unknown owner_column is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', lead_status_column => 'company_id')$$,
    '42701', NULL, 'manage(): the person''s company column cannot hold the lead status');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', category_column => 'id')$$,
    '42701', NULL, 'manage(): the company key cannot hold the category');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused column names leave no trace');

CREATE TABLE bad.company_intcat (id int PRIMARY KEY, category int);
CREATE TABLE bad.person_of_intcat (id int PRIMARY KEY, company_id int REFERENCES bad.company_intcat);
CREATE TABLE bad.person_intstatus (id int PRIMARY KEY, company_id int REFERENCES crm.company, lead_status int);
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT lead_mgmt.manage('bad.company_intcat', 'bad.person_of_intcat')$$,
    '42804', NULL, 'manage(): an existing integer category column is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_intstatus')$$,
    '42804', NULL, 'manage(): an existing integer lead_status column is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused column types leave no trace');

-- existing values that are not catalog keys
CREATE TABLE bad.company_badcat (id int PRIMARY KEY, category text);
CREATE TABLE bad.person_of_badcat (id int PRIMARY KEY, company_id int REFERENCES bad.company_badcat);
INSERT INTO bad.company_badcat VALUES (1, 'lead'), (2, 'vip');
CREATE TABLE bad.person_badstatus (id int PRIMARY KEY, company_id int REFERENCES crm.company, lead_status text);
INSERT INTO bad.person_badstatus VALUES (1, 1, 'open'), (2, 1, 'hot');
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT lead_mgmt.manage('bad.company_badcat', 'bad.person_of_badcat')$$,
    '23503', NULL, 'manage(): an existing category value that is not a category key is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'bad.person_badstatus')$$,
    '23503', NULL, 'manage(): an existing lead status value that is not a status key is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused existing values leave no trace');
SELECT results_eq($$SELECT category FROM bad.company_badcat ORDER BY id$$, ARRAY['lead', 'vip'],
    'manage(): the refused category values are kept as they were');
SELECT results_eq($$SELECT lead_status FROM bad.person_badstatus ORDER BY id$$, ARRAY['open', 'hot'],
    'manage(): the refused status values are kept as they were');

-- privileges
CREATE ROLE lm_tap_clerk;
CREATE ROLE lm_tap_manager IN ROLE lead_mgmt_admin;
GRANT USAGE ON SCHEMA crm TO lm_tap_clerk, lm_tap_manager;
SELECT pg_temp.footprint() AS before \gset
SET ROLE lm_tap_clerk;
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$,
    '42501', NULL, 'manage(): an ordinary role may not call it');
SELECT throws_ok($$SELECT lead_mgmt.unmanage()$$,
    '42501', NULL, 'unmanage(): an ordinary role may not call it');
RESET ROLE;
SET ROLE lm_tap_manager;
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$,
    '42501', NULL, 'manage(): lead_mgmt_admin may not manage tables it does not own');
RESET ROLE;
SELECT is(pg_temp.footprint(), :'before', 'manage(): refused callers leave no trace');

------------------------------------------------------------------------------
-- Success: existing category column, lead_status added, back-fill (B1)
------------------------------------------------------------------------------

SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'manage(): crm.company and crm.person');
SELECT results_eq(
    $$SELECT company_schema, company_table, company_key, person_schema, person_table, person_key,
             company_column, category_column, lead_status_column, label_column, owner_column,
             category_fkey IS NOT NULL, lead_status_fkey IS NOT NULL
        FROM pg_temp.reg()$$,
    $$VALUES ('crm', 'company', 'id', 'crm', 'person', 'id', 'company_id', 'category', 'lead_status',
              NULL::text, NULL::text, true, true)$$,
    'manage(): the registration names tables, keys and columns');
SELECT col_type_is('crm', 'person', 'lead_status', 'text', 'manage(): lead_status was added as text');
SELECT fk_ok('crm', 'person', 'lead_status', 'lead_mgmt', 'lead_status', 'key',
    'manage(): person.lead_status references lead_mgmt.lead_status');
SELECT fk_ok('crm', 'company', 'category', 'lead_mgmt', 'category', 'key',
    'manage(): the existing company.category now references lead_mgmt.category');
SELECT is(pg_temp.lm_triggers('crm.person'), ARRAY['lead_mgmt_person_changes', 'lead_mgmt_person_pending', 'lead_mgmt_person_rules', 'lead_mgmt_person_truncate'],
    'manage(): triggers on the person table');
SELECT is(pg_temp.lm_triggers('crm.company'),
    ARRAY['lead_mgmt_company_cascade', 'lead_mgmt_company_changes', 'lead_mgmt_company_pending', 'lead_mgmt_company_rules', 'lead_mgmt_company_truncate'],
    'manage(): triggers on the company table');
SELECT hasnt_column('crm', 'person', 'category', 'rule B7: persons get no category column of their own');
SELECT results_eq('SELECT id, lead_status FROM crm.person ORDER BY id',
    $$VALUES (1, 'open'), (2, 'open'), (3, NULL), (4, NULL), (5, NULL), (6, NULL)$$,
    'rule B1: manage() gives the default status to persons of lead-enabled companies only');

SELECT throws_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3$$,
    '23L01', NULL, 'manage(): the rules are in force afterwards');

-- a second pair
CREATE SCHEMA crm2;
CREATE TABLE crm2.company (id int PRIMARY KEY);
CREATE TABLE crm2.person (id int PRIMARY KEY, company_id int REFERENCES crm2.company);
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT lead_mgmt.manage('crm2.company', 'crm2.person')$$,
    '42710', NULL, 'manage(): a second pair is refused');
SELECT throws_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$,
    '42710', NULL, 'manage(): managing the same pair twice is refused');
SELECT is(pg_temp.footprint(), :'before', 'manage(): the refused second call leaves no trace');
SELECT hasnt_column('crm2', 'person', 'lead_status', 'manage(): no column was added to the second pair');
SELECT is(pg_temp.lm_triggers('crm2.person'), '{}'::text[], 'manage(): no trigger was added to the second pair');

-- unmanage keeps data and columns
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2;
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage()');
SELECT is_empty('SELECT * FROM lead_mgmt.registration', 'unmanage(): the registration is gone');
SELECT is(pg_temp.lm_triggers('crm.person'), '{}'::text[], 'unmanage(): no trigger left on the person table');
SELECT is(pg_temp.lm_triggers('crm.company'), '{}'::text[], 'unmanage(): no trigger left on the company table');
SELECT has_column('crm', 'person', 'lead_status', 'unmanage(): the lead_status column stays');
SELECT has_column('crm', 'company', 'category', 'unmanage(): the category column stays');
SELECT is_empty($$SELECT 1 FROM pg_constraint WHERE conrelid IN ('crm.person'::regclass, 'crm.company'::regclass)
                    AND confrelid IN ('lead_mgmt.category'::regclass, 'lead_mgmt.lead_status'::regclass)$$,
    'unmanage(): the foreign keys manage() added are dropped');
SELECT results_eq('SELECT id, lead_status FROM crm.person ORDER BY id',
    $$VALUES (1, 'open'), (2, 'contacting'), (3, NULL), (4, NULL), (5, NULL), (6, NULL)$$,
    'unmanage(): every status stays');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3$$,
    'unmanage(): the rules are no longer in force');
INSERT INTO crm.person VALUES (7, 1, 'Grace');

-- and manage again
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'manage(): the pair can be managed again');
SELECT results_eq('SELECT id, lead_status FROM crm.person ORDER BY id',
    $$VALUES (1, 'open'), (2, 'contacting'), (3, 'qualified'), (4, NULL), (5, NULL), (6, NULL), (7, 'open')$$,
    'rule B1: the second manage() back-fills the person added meanwhile and keeps every other status');
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage() again');

------------------------------------------------------------------------------
-- Existing lead_status column (varchar, own foreign key), other column names
------------------------------------------------------------------------------

CREATE TABLE crm.firm (id int PRIMARY KEY, segment varchar(30));
CREATE TABLE crm.contact (id int PRIMARY KEY, firm_id int REFERENCES crm.firm, full_name text, rep text,
    stage varchar(40) REFERENCES lead_mgmt.lead_status (key));
INSERT INTO crm.firm VALUES (1, 'mql'), (2, 'partner');
INSERT INTO crm.contact VALUES (1, 1, 'Ada', 'rep1', 'qualified'), (2, 1, 'Alan', 'rep1', NULL),
    (3, 2, 'Barbara', 'rep2', 'renurture');
SELECT attnum AS stage_attnum FROM pg_attribute WHERE attrelid = 'crm.contact'::regclass AND attname = 'stage' \gset
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.firm', 'crm.contact', category_column => 'segment',
                      lead_status_column => 'stage', label_column => 'full_name', owner_column => 'rep')$$,
    'manage(): existing varchar columns under other names, with label and owner columns');
SELECT results_eq(
    $$SELECT company_column, category_column, lead_status_column, label_column, owner_column,
             category_fkey IS NOT NULL, lead_status_fkey IS NULL
        FROM pg_temp.reg()$$,
    $$VALUES ('firm_id', 'segment', 'stage', 'full_name', 'rep', true, true)$$,
    'manage(): the registration records the columns and that the status foreign key was already there');
SELECT is((SELECT attnum FROM pg_attribute WHERE attrelid = 'crm.contact'::regclass AND attname = 'stage'),
    :'stage_attnum'::smallint, 'manage(): the existing status column is reused, not added');
SELECT hasnt_column('crm', 'contact', 'lead_status', 'manage(): no lead_status column is added beside it');
SELECT hasnt_column('crm', 'firm', 'category', 'manage(): no category column is added beside segment');
SELECT is((SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'crm.contact'::regclass
             AND confrelid = 'lead_mgmt.lead_status'::regclass), 1,
    'manage(): no second foreign key on the status column');
SELECT results_eq('SELECT id, stage::text FROM crm.contact ORDER BY id',
    $$VALUES (1, 'qualified'), (2, 'open'), (3, 'renurture')$$,
    'rule B1: back-fill of the empty status only; a retained status of a partner stays');
SELECT throws_ok($$UPDATE crm.contact SET stage = 'contacting' WHERE id = 3$$,
    '23L01', NULL, 'rule B5: enforced through the renamed columns');
SELECT results_eq('SELECT stage::text FROM crm.contact WHERE id = 3', ARRAY['renurture'],
    'rule B5: the refused change left the status as it was');
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage(): firm and contact');
SELECT is((SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'crm.contact'::regclass
             AND confrelid = 'lead_mgmt.lead_status'::regclass), 1,
    'unmanage(): the foreign key the user created stays');
SELECT is((SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'crm.firm'::regclass
             AND confrelid = 'lead_mgmt.category'::regclass), 0,
    'unmanage(): the foreign key manage() created is dropped');

------------------------------------------------------------------------------
-- company_column and person primary keys that include the company
------------------------------------------------------------------------------

CREATE TABLE crm.referral (id int PRIMARY KEY, referred_by int REFERENCES crm.company,
    company_id int REFERENCES crm.company, name text);
INSERT INTO crm.referral VALUES (1, 1, 2, 'Ada'), (2, 2, 1, 'Alan');
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.referral', company_column => 'company_id')$$,
    'manage(): company_column picks one of two foreign keys');
SELECT is((SELECT company_column FROM pg_temp.reg()), 'company_id',
    'manage(): the registration names the chosen column');
SELECT results_eq('SELECT id, lead_status FROM crm.referral ORDER BY id', $$VALUES (1, NULL), (2, 'open')$$,
    'rule B1: the back-fill follows company_column, not the other foreign key');
SELECT lives_ok($$UPDATE crm.referral SET referred_by = 2 WHERE id = 2$$,
    'manage(): changing the other foreign key is not a move');
SELECT throws_ok($$UPDATE crm.referral SET lead_status = 'contacting' WHERE id = 1$$,
    '23L01', NULL, 'rule B5: visibility follows company_column');
SELECT results_eq('SELECT id, lead_status FROM crm.referral ORDER BY id', $$VALUES (1, NULL), (2, 'open')$$,
    'rule B5: nothing changed');
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage(): referral');

CREATE TABLE crm.member (id int, company_id int REFERENCES crm.company, name text, PRIMARY KEY (id, company_id));
INSERT INTO crm.member VALUES (1, 1, 'Ada'), (1, 2, 'Ada');
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.member')$$,
    'manage(): person primary key (id, company_id)');
SELECT is((SELECT person_key FROM pg_temp.reg()), 'id',
    'manage(): the person key is the column beside the company column');
SELECT results_eq('SELECT company_id, lead_status FROM crm.member ORDER BY company_id', $$VALUES (1, 'open'), (2, NULL)$$,
    'rule B1: back-fill with a two-column person key');
SELECT lives_ok($$INSERT INTO crm.member VALUES (2, 1, 'Alan')$$, 'insert with a two-column person key');
SELECT results_eq('SELECT lead_status FROM crm.member WHERE (id, company_id) = (2, 1)', ARRAY['open'],
    'rule B1: on insert with a two-column person key');
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage(): member');

CREATE TABLE crm.seat (company_id int REFERENCES crm.company, seat_no int, PRIMARY KEY (company_id, seat_no));
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.seat')$$,
    'manage(): person primary key (company_id, seat_no)');
SELECT is((SELECT person_key FROM pg_temp.reg()), 'seat_no',
    'manage(): the person key is the second column');
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage(): seat');

------------------------------------------------------------------------------
-- Key types and quoted names: the same rules on every pair
------------------------------------------------------------------------------

-- Runs the lead rules against a managed pair.  k1, k2, k3 are SQL literals
-- of three company keys; persons get their key from a default.
CREATE FUNCTION pg_temp.exercise(company regclass, person regclass, key_col name, company_col name,
                                 category_col name, status_col name, k1 text, k2 text, k3 text, what text)
RETURNS SETOF text LANGUAGE plpgsql AS $fn$
DECLARE
    persons text := format('SELECT %1$I::text, %2$I::text FROM %3$s ORDER BY %1$I::text, %2$I::text',
                           company_col, status_col, person);
BEGIN
    EXECUTE format('INSERT INTO %s (%I, %I) VALUES (%s, %L), (%s, %L), (%s, %L)',
                   company, key_col, category_col, k1, 'lead', k2, 'customer', k3, 'opportunity');
    EXECUTE format('INSERT INTO %s (%I) VALUES (%s), (%s), (%s), (%s)', person, company_col, k1, k1, k2, k3);
    RETURN NEXT results_eq(persons,
        format('VALUES ((%s)::text, %L), ((%s)::text, %L), ((%s)::text, NULL), ((%s)::text, NULL)',
               k1, 'open', k1, 'open', k2, k3) || ' ORDER BY 1, 2',
        what || ': rule B1 on insert');
    RETURN NEXT throws_ok(format('UPDATE %s SET %I = %L WHERE %I = %s', person, status_col, 'qualified', company_col, k2),
        '23L01', NULL, what || ': rule B5 on a hidden person');
    RETURN NEXT throws_ok(format('INSERT INTO %s (%I, %I) VALUES (%s, %L)', person, company_col, status_col, k3, 'qualified'),
        '23L01', NULL, what || ': rule B5 on insert');
    EXECUTE format('UPDATE %s SET %I = %L WHERE %I = %s', company, category_col, 'mql', key_col, k2);
    RETURN NEXT results_eq(persons,
        format('VALUES ((%s)::text, %L), ((%s)::text, %L), ((%s)::text, %L), ((%s)::text, NULL)',
               k1, 'open', k1, 'open', k2, 'open', k3) || ' ORDER BY 1, 2',
        what || ': rule B2 when the company becomes lead-enabled');
    UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
    RETURN NEXT results_eq(persons,
        format('VALUES ((%s)::text, %L), ((%s)::text, %L), ((%s)::text, %L), ((%s)::text, %L)',
               k1, 'open', k1, 'open', k2, 'open', k3, 'open') || ' ORDER BY 1, 2',
        what || ': rule B2 when the administrator enables lead status on the category');
    UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
    EXECUTE format('UPDATE %s SET %I = %L WHERE %I = %s', person, status_col, 'exercise_status', company_col, k2);
    EXECUTE format('UPDATE %s SET %I = %L WHERE %I = %s', company, category_col, 'exercise_category', key_col, k3);
    RETURN NEXT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'exercise_status'$$,
        '23L08', NULL, what || ': a status held by a person cannot be hard-deleted');
    RETURN NEXT throws_ok($$DELETE FROM lead_mgmt.category WHERE key = 'exercise_category'$$,
        '23L08', NULL, what || ': a category held by a company cannot be hard-deleted');
    RETURN NEXT is((SELECT count(*)::int FROM lead_mgmt.lead_status s, lead_mgmt.category c
                     WHERE s.key = 'exercise_status' AND c.key = 'exercise_category'), 1,
        what || ': both rows are still there');
    EXECUTE format('UPDATE %s SET %I = %L WHERE %I = %s', person, status_col, 'contacting', company_col, k1);
    EXECUTE format('UPDATE %s SET %I = %L WHERE %I = %s', company, category_col, 'partner', key_col, k1);
    RETURN NEXT results_eq(persons,
        format('VALUES ((%s)::text, %L), ((%s)::text, %L), ((%s)::text, %L), ((%s)::text, %L)',
               k1, 'contacting', k1, 'contacting', k2, 'exercise_status', k3, 'open') || ' ORDER BY 1, 2',
        what || ': rule B3 keeps the statuses of hidden companies');
END
$fn$;

INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('exercise_status', 'Exercise', 20);
INSERT INTO lead_mgmt.category (key, name, rank) VALUES ('exercise_category', 'Exercise', 20);

-- unmanage() drops the foreign key to lead_mgmt.lead_status, which
-- PostgreSQL refuses while that table has queued trigger events (the
-- deferred check of rule S1 after a catalog edit): fire them first.
CREATE FUNCTION pg_temp.unmanage() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;
    PERFORM lead_mgmt.unmanage();
END
$$;

-- bigint
CREATE SCHEMA kb;
CREATE TABLE kb.company (id bigint PRIMARY KEY, category text);
CREATE TABLE kb.person (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id bigint REFERENCES kb.company, lead_status text);
SELECT lives_ok($$SELECT lead_mgmt.manage('kb.company', 'kb.person')$$, 'manage(): bigint keys');
SELECT * FROM pg_temp.exercise('kb.company', 'kb.person', 'id', 'company_id', 'category', 'lead_status',
    '5000000000', '5000000001', '5000000002', 'bigint keys');
SELECT lives_ok('SELECT pg_temp.unmanage()', 'unmanage(): bigint keys');

-- uuid
CREATE SCHEMA ku;
CREATE TABLE ku.company (id uuid PRIMARY KEY, category text);
CREATE TABLE ku.person (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id uuid REFERENCES ku.company, lead_status text);
SELECT lives_ok($$SELECT lead_mgmt.manage('ku.company', 'ku.person')$$, 'manage(): uuid keys');
SELECT * FROM pg_temp.exercise('ku.company', 'ku.person', 'id', 'company_id', 'category', 'lead_status',
    $$'00000000-0000-4000-8000-000000000001'::uuid$$, $$'00000000-0000-4000-8000-000000000002'::uuid$$,
    $$'00000000-0000-4000-8000-000000000003'::uuid$$, 'uuid keys');
SELECT lives_ok('SELECT pg_temp.unmanage()', 'unmanage(): uuid keys');

-- text
CREATE SCHEMA kt;
CREATE TABLE kt.company (id text PRIMARY KEY, category text);
CREATE TABLE kt.person (id text PRIMARY KEY DEFAULT md5(random()::text || clock_timestamp()::text),
    company_id text REFERENCES kt.company, lead_status text);
SELECT lives_ok($$SELECT lead_mgmt.manage('kt.company', 'kt.person')$$, 'manage(): text keys');
SELECT * FROM pg_temp.exercise('kt.company', 'kt.person', 'id', 'company_id', 'category', 'lead_status',
    $$'acme'$$, $$'Acme'$$, $$'acme '$$, 'text keys');
SELECT lives_ok('SELECT pg_temp.unmanage()', 'unmanage(): text keys');

-- a bigint company key referenced by an int column (a legal foreign key)
CREATE SCHEMA km;
CREATE TABLE km.company (id bigint PRIMARY KEY, category text);
CREATE TABLE km.person (id int PRIMARY KEY, company_id int REFERENCES km.company, lead_status text);
SELECT lives_ok($$SELECT lead_mgmt.manage('km.company', 'km.person')$$, 'manage(): bigint company key, int person column');
INSERT INTO km.company VALUES (1, 'customer'), (4294967297, 'customer'), (2, 'opportunity');
INSERT INTO km.person VALUES (1, 1, NULL), (2, 2, NULL);
UPDATE km.company SET category = 'lead' WHERE id = 4294967297;
SELECT results_eq('SELECT id, lead_status FROM km.person ORDER BY id', $$VALUES (1, NULL), (2, NULL)$$,
    'rule B2: a company whose key is beyond the int range becoming a lead touches no other company''s persons');
UPDATE km.company SET category = 'mql' WHERE id = 1;
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
SELECT results_eq('SELECT id, lead_status FROM km.person ORDER BY id', $$VALUES (1, 'open'), (2, 'open')$$,
    'rule B2: by company and by catalog with mixed key types');
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
SELECT lives_ok('SELECT pg_temp.unmanage()', 'unmanage(): mixed key types');

-- names that need quoting
CREATE SCHEMA "CRM Data Ø";
CREATE TABLE "CRM Data Ø"."Firma Æ" ("Firma Nr" int PRIMARY KEY, "Navn" text);
CREATE TABLE "CRM Data Ø"."Kontakt Person" ("Person-Id" int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "Firma nr." int REFERENCES "CRM Data Ø"."Firma Æ", "Visnings Navn" text, "Vår Kontakt" text);
SELECT lives_ok($$SELECT lead_mgmt.manage('"CRM Data Ø"."Firma Æ"', '"CRM Data Ø"."Kontakt Person"',
                      category_column => 'Kategori Ø', lead_status_column => 'Lead Status',
                      label_column => 'Visnings Navn', owner_column => 'Vår Kontakt')$$,
    'manage(): schema, tables and columns with capitals, spaces, punctuation and non-ASCII letters');
SELECT results_eq(
    $$SELECT company_schema, company_table, company_key, person_table, person_key,
             company_column, category_column, lead_status_column, label_column, owner_column
        FROM pg_temp.reg()$$,
    $$VALUES ('CRM Data Ø', 'Firma Æ', 'Firma Nr', 'Kontakt Person', 'Person-Id', 'Firma nr.',
              'Kategori Ø', 'Lead Status', 'Visnings Navn', 'Vår Kontakt')$$,
    'manage(): the registration keeps the exact names');
SELECT has_column('CRM Data Ø', 'Firma Æ', 'Kategori Ø', 'manage(): the quoted category column was added');
SELECT has_column('CRM Data Ø', 'Kontakt Person', 'Lead Status', 'manage(): the quoted status column was added');
SELECT * FROM pg_temp.exercise('"CRM Data Ø"."Firma Æ"', '"CRM Data Ø"."Kontakt Person"', 'Firma Nr', 'Firma nr.',
    'Kategori Ø', 'Lead Status', '1', '2', '3', 'quoted names');
SELECT lives_ok('SELECT pg_temp.unmanage()', 'unmanage(): quoted names');
SELECT is(pg_temp.lm_triggers('"CRM Data Ø"."Kontakt Person"'), '{}'::text[],
    'unmanage(): the triggers on the quoted table are gone');

------------------------------------------------------------------------------
-- A managed table that was dropped
------------------------------------------------------------------------------

CREATE TABLE crm2.person2 (id int PRIMARY KEY, company_id int REFERENCES crm2.company);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm2.company', 'crm2.person2')$$, 'manage(): crm2');
DROP TABLE crm2.person2;
SELECT is((SELECT count(*) FROM lead_mgmt.registration), 0::bigint,
    'dropping a managed person table clears the registration');
SELECT is(pg_temp.lm_triggers('crm2.company'), '{}'::text[], 'and drops the triggers on the company table');
SELECT lives_ok($$SELECT lead_mgmt.manage('crm2.company', 'crm2.person')$$, 'manage(): another pair afterwards');
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage(): crm2');

------------------------------------------------------------------------------
-- lead_mgmt_admin manages tables it owns
------------------------------------------------------------------------------

CREATE ROLE lm_tap_owner IN ROLE lead_mgmt_admin;
CREATE SCHEMA own AUTHORIZATION lm_tap_owner;
SET ROLE lm_tap_owner;
CREATE TABLE own.company (id int PRIMARY KEY, name text);
CREATE TABLE own.person (id int PRIMARY KEY, company_id int REFERENCES own.company, name text);
SELECT lives_ok($$SELECT lead_mgmt.manage('own.company', 'own.person')$$,
    'manage(): a member of lead_mgmt_admin manages tables it owns');
SELECT results_eq('SELECT person_schema, person_table FROM pg_temp.reg()',
    $$VALUES ('own', 'person')$$, 'manage(): its registration is recorded');
SELECT lives_ok($$INSERT INTO own.company (id, name) VALUES (1, 'Acme');
                  UPDATE own.company SET category = 'lead' WHERE id = 1;
                  INSERT INTO own.person (id, company_id, name) VALUES (1, 1, 'Ada')$$,
    'the owner writes its managed tables');
SELECT is((SELECT to_jsonb(p) ->> 'lead_status' FROM own.person p WHERE id = 1), 'open',
    'rule B1 for the owner''s tables');
SELECT lives_ok('SELECT lead_mgmt.unmanage()', 'unmanage(): by the member of lead_mgmt_admin');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
