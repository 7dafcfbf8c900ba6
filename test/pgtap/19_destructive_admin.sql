-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Destructive administrator commands (SPEC §7, §9): TRUNCATE ... CASCADE of
-- a catalog the managed tables reference would empty the person or company
-- table through its foreign key, and is refused with nothing changed;
-- DROP EXTENSION (and DROP SCHEMA lead_mgmt) while tables are managed, or
-- while a status history is kept, is refused saying what to run first; with
-- CASCADE the tables are unmanaged and keep their rows and columns, and the
-- extension can be created and the tables managed again.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(35);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name');
INSERT INTO crm.company VALUES (1, 'Fjord AS', 'lead'), (2, 'Bre AS', 'customer'), (3, 'Dal AS', 'mql');
INSERT INTO crm.person VALUES (1, 1, 'Ann'), (2, 2, 'Bob'), (3, 3, 'Cid'), (4, 1, 'Dag');
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 4;

CREATE TEMP TABLE before_people AS SELECT * FROM crm.person;
CREATE TEMP TABLE before_companies AS SELECT * FROM crm.company;
CREATE TEMP TABLE before_statuses AS SELECT key FROM lead_mgmt.lead_status;
CREATE TEMP TABLE before_categories AS SELECT key FROM lead_mgmt.category;
CREATE TEMP TABLE before_labels AS
    SELECT 'category' AS kind, category AS key, language, name FROM lead_mgmt.category_label
    UNION ALL SELECT 'status', status, language, name FROM lead_mgmt.lead_status_label
    UNION ALL SELECT 'group', category_group::text, language, name FROM lead_mgmt.category_group_label;
CREATE TEMP TABLE before_history AS SELECT count(*) AS n FROM lead_mgmt.status_history;

CREATE FUNCTION pg_temp.unchanged() RETURNS boolean LANGUAGE sql AS $$
    SELECT NOT EXISTS (SELECT * FROM crm.person EXCEPT SELECT * FROM before_people)
       AND NOT EXISTS (SELECT * FROM before_people EXCEPT SELECT * FROM crm.person)
       AND NOT EXISTS (SELECT * FROM crm.company EXCEPT SELECT * FROM before_companies)
       AND NOT EXISTS (SELECT * FROM before_companies EXCEPT SELECT * FROM crm.company)
       AND (SELECT count(*) FROM lead_mgmt.lead_status) = (SELECT count(*) FROM before_statuses)
       AND (SELECT count(*) FROM lead_mgmt.category) = (SELECT count(*) FROM before_categories)
       AND (SELECT count(*) FROM lead_mgmt.category_label) + (SELECT count(*) FROM lead_mgmt.lead_status_label)
           + (SELECT count(*) FROM lead_mgmt.category_group_label) = (SELECT count(*) FROM before_labels)
       AND (SELECT count(*) FROM lead_mgmt.status_history) = (SELECT n FROM before_history)
$$;

-- TRUNCATE of the catalogs the managed tables reference, with CASCADE
SELECT throws_ok('TRUNCATE lead_mgmt.lead_status CASCADE', '0A000',
    'cannot truncate lead_mgmt.lead_status',
    'TRUNCATE lead_mgmt.lead_status CASCADE is refused (it would empty crm.person)');
SELECT ok(pg_temp.unchanged(), '... and the persons, companies, catalogs and history are unchanged');
SELECT throws_ok('TRUNCATE lead_mgmt.category CASCADE', '0A000',
    'cannot truncate lead_mgmt.category',
    'TRUNCATE lead_mgmt.category CASCADE is refused (it would empty crm.company and crm.person)');
SELECT ok(pg_temp.unchanged(), '... and nothing changed');
SELECT throws_ok('TRUNCATE lead_mgmt.category, lead_mgmt.lead_status, crm.person, crm.company', '0A000',
    NULL, 'TRUNCATE of the catalogs together with the managed tables is refused');
SELECT ok(pg_temp.unchanged(), '... and nothing changed');
SELECT throws_ok('TRUNCATE lead_mgmt.category_label CASCADE', '0A000',
    'cannot truncate lead_mgmt.category_label', 'TRUNCATE of a label table is refused');
SELECT throws_ok('TRUNCATE lead_mgmt.lead_status_label CASCADE', '0A000',
    'cannot truncate lead_mgmt.lead_status_label', 'TRUNCATE of the status labels is refused');
SELECT throws_ok('TRUNCATE lead_mgmt.category_group_label', '0A000',
    'cannot truncate lead_mgmt.category_group_label', 'TRUNCATE of the group labels is refused');
SELECT throws_ok('TRUNCATE lead_mgmt.status_history', '42501', 'lead_mgmt.status_history is append-only',
    'TRUNCATE of the status history is refused');
SELECT ok(pg_temp.unchanged(), '... and nothing changed');
-- the refusal is not a foreign-key error that CASCADE would get past
SELECT throws_like('TRUNCATE lead_mgmt.lead_status CASCADE',
    '%cannot truncate lead_mgmt.lead_status%', 'the refusal names the catalog');

-- administrator functions called inside a statement that uses what they change
SELECT lead_mgmt.rebuild_counts() > 0 AS summary_rows \gset
-- a key of two rows (one of them adding nothing), which compaction folds
INSERT INTO lead_mgmt.count_delta (company_id, kind, category, status, owner, n)
SELECT company_id, kind, category, status, owner, 0 FROM lead_mgmt.count_delta
 WHERE kind = 'p' AND status = 'open' LIMIT 1;
SELECT throws_ok($$DELETE FROM lead_mgmt.count_delta WHERE kind = 'p' AND status = 'open'
                   RETURNING lead_mgmt.compact_counts()$$, '55000',
    'lead_mgmt.compact_counts() cannot fold rows of lead_mgmt.count_delta that its own statement changes',
    'compact_counts() inside a DELETE of the summary is refused with a clear error');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_counts()), 0::bigint, '... and the summary still equals a recount');
SELECT lives_ok('SELECT lead_mgmt.start_history(), (SELECT count(*) FROM lead_mgmt.funnel)',
    'start_history() again leaves the views and functions a query of the same statement reads');

-- DROP EXTENSION / DROP SCHEMA while the tables are managed
SELECT throws_ok('DROP EXTENSION lead_mgmt', '2BP01',
    'cannot drop lead_mgmt while it manages crm.company and crm.person',
    'DROP EXTENSION while tables are managed is refused, naming them');
SELECT ok(pg_temp.unchanged(), '... and nothing changed');
SELECT is((SELECT count(*) FROM pg_extension WHERE extname = 'lead_mgmt'), 1::bigint, '... and the extension is still there');
SELECT throws_ok('DROP EXTENSION IF EXISTS lead_mgmt RESTRICT', '2BP01', NULL,
    'DROP EXTENSION IF EXISTS ... RESTRICT is refused alike');
SELECT throws_ok('DROP SCHEMA lead_mgmt', '2BP01',
    'cannot drop lead_mgmt while it manages crm.company and crm.person',
    'DROP SCHEMA lead_mgmt while tables are managed is refused alike');
DO $$
BEGIN
    DROP EXTENSION lead_mgmt;
EXCEPTION WHEN dependent_objects_still_exist THEN
    DECLARE
        hint text;
    BEGIN
        GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
        CREATE TEMP TABLE drop_hint AS SELECT hint;
    END;
END
$$;
SELECT matches((SELECT hint FROM drop_hint), 'lead_mgmt\.unmanage\(\).*CASCADE',
    'the hint says what to run first: unmanage(), or CASCADE');

-- rules still enforced after the refusals
INSERT INTO crm.person VALUES (5, 1, 'Eli');
SELECT is((SELECT lead_status FROM crm.person WHERE id = 5), 'open', 'B1 still holds after the refused drops');
DELETE FROM crm.person WHERE id = 5;

-- after unmanage() the kept history still blocks a plain DROP EXTENSION
SAVEPOINT unmanaged;
SELECT lead_mgmt.unmanage();
SELECT throws_ok('DROP EXTENSION lead_mgmt', '2BP01',
    'cannot drop lead_mgmt while it keeps lead_mgmt.status_history',
    'after unmanage() DROP EXTENSION is refused while the history is kept, naming it');
DROP TABLE lead_mgmt.status_history;
SELECT lives_ok('DROP EXTENSION lead_mgmt', 'after unmanage() and dropping the history, DROP EXTENSION works');
SELECT is((SELECT count(*) FROM crm.person), 4::bigint, '... and the persons stay');
ROLLBACK TO SAVEPOINT unmanaged;

-- DROP EXTENSION ... CASCADE: a clean drop that leaves the user's data
SELECT lives_ok('DROP EXTENSION lead_mgmt CASCADE', 'DROP EXTENSION lead_mgmt CASCADE works while tables are managed');
SELECT is((SELECT count(*) FROM pg_extension WHERE extname = 'lead_mgmt'), 0::bigint, '... the extension is gone');
SELECT set_eq('SELECT id, company_id, name, lead_status FROM crm.person',
              'SELECT id, company_id, name, lead_status FROM before_people',
              '... every person stays with its lead status');
SELECT set_eq('SELECT id, name, category FROM crm.company',
              'SELECT id, name, category FROM before_companies',
              '... every company stays with its category');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('crm.person'::regclass, 'crm.company'::regclass)
             AND NOT tgisinternal), 0::bigint, '... no lead_mgmt trigger is left on the tables');
SELECT is((SELECT count(*) FROM pg_constraint WHERE conrelid IN ('crm.person'::regclass, 'crm.company'::regclass)
             AND contype = 'f' AND confrelid NOT IN ('crm.company'::regclass)), 0::bigint,
          '... no foreign key to a lead_mgmt catalog is left');
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'lead_mgmt'),
          0::bigint, '... nothing is left in schema lead_mgmt (history, summary, views)');
-- the tables are ordinary tables again
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'anything' WHERE id = 2$$,
    'the unmanaged person table takes any value');

-- and can be managed again
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2;
CREATE EXTENSION lead_mgmt;
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name')$$,
    'after DROP EXTENSION CASCADE the extension is created and the tables managed again');
SELECT set_eq('SELECT id, lead_status FROM crm.person',
              $$VALUES (1, 'open'), (2, 'contacting'), (3, 'open'), (4, 'contacting')$$,
              '... with the statuses they kept');

SELECT * FROM finish();
ROLLBACK;
