-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- The count summary behind the dashboard views (SPEC §8): exact after every
-- path (inserts, updates, deletes, moves, owners, category changes, catalog
-- flips, TRUNCATE, merges, automation, COPY, MERGE, ON CONFLICT, the rules
-- off, savepoints, persons written before their company), read without
-- scanning the person table, and a reader under row-level security counts
-- the rows it may see.  verify_counts() compares the summary with a recount
-- after each step.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(53);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_count_reader') THEN
        CREATE ROLE lm_count_reader;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_count_nobody') THEN
        CREATE ROLE lm_count_nobody;
    END IF;
END
$$;

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company ON DELETE CASCADE,
                         name text NOT NULL, owner text);
CREATE INDEX ON crm.person (company_id);
INSERT INTO crm.company (id, name) VALUES (1, 'Acme');
ALTER TABLE crm.company ADD COLUMN category text;
UPDATE crm.company SET category = 'lead';
INSERT INTO crm.person (id, company_id, name, owner) VALUES (1, 1, 'Ada', 'sara'), (2, 1, 'Alan', NULL);
SELECT lead_mgmt.manage('crm.company', 'crm.person', owner_column => 'owner');
GRANT USAGE ON SCHEMA crm TO lm_count_reader, lm_count_nobody;
GRANT SELECT ON crm.company, crm.person TO lm_count_reader;

-- the counts as one line: status=visible/retained for statuses with persons
CREATE FUNCTION pg_temp.counts() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(format('%s=%s/%s', lead_status, visible, retained), ' ' ORDER BY rank), '')
      FROM lead_mgmt.status_counts WHERE total > 0
$$;
CREATE FUNCTION pg_temp.exact() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM lead_mgmt.verify_counts()
$$;

SELECT is(pg_temp.counts(), 'open=2/0', 'manage(): the summary starts from the persons there are');
SELECT is(pg_temp.exact(), 0::bigint, 'verify_counts(): equal to a recount');

-- inserts, status changes, owners
INSERT INTO crm.company (id, name, category) VALUES (2, 'Bolt', 'customer'), (3, 'Cargo', 'mql'), (4, 'Dune', NULL);
INSERT INTO crm.person (id, company_id, name, owner, lead_status) VALUES
    (3, 2, 'Bea', 'sara', NULL), (4, 3, 'Cato', 'ola', 'contacting'), (5, NULL, 'Dan', NULL, NULL), (6, 4, 'Dag', NULL, NULL);
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 2;
UPDATE crm.person SET owner = 'ola' WHERE id = 1;
SELECT is(pg_temp.counts(), 'open=1/0 contacting=1/0 qualified=1/0', 'inserts and status changes are counted');
SELECT results_eq($$SELECT owner, lead_status, leads FROM lead_mgmt.owner_counts ORDER BY owner NULLS LAST, rank$$,
    $$VALUES ('ola', 'open', 1::bigint), ('ola', 'contacting', 1::bigint), (NULL, 'qualified', 1::bigint)$$,
    'owner_counts: a changed owner is counted under the new one');
SELECT results_eq($$SELECT category, companies, persons, leads, retained FROM lead_mgmt.category_counts
                     WHERE companies > 0 OR persons > 0 ORDER BY rank$$,
    $$VALUES ('lead', 1::bigint, 2::bigint, 2::bigint, 0::bigint), ('mql', 1::bigint, 1::bigint, 1::bigint, 0::bigint),
             ('customer', 1::bigint, 1::bigint, 0::bigint, 0::bigint)$$,
    'category_counts: companies, persons (with or without status), leads');
SELECT is(pg_temp.exact(), 0::bigint, 'equal to a recount');

-- the reader's own uncommitted changes are in its counts
SAVEPOINT s1;
INSERT INTO crm.person (id, company_id, name) VALUES (7, 1, 'Ann');
SELECT is(pg_temp.counts(), 'open=2/0 contacting=1/0 qualified=1/0', 'a transaction sees its own changes in the counts');
ROLLBACK TO SAVEPOINT s1;
SELECT is(pg_temp.counts(), 'open=1/0 contacting=1/0 qualified=1/0', 'a rolled-back savepoint takes its counts with it');
SAVEPOINT s2;
INSERT INTO crm.person (id, company_id, name) VALUES (7, 1, 'Ann');
RELEASE SAVEPOINT s2;
SELECT is(pg_temp.counts(), 'open=2/0 contacting=1/0 qualified=1/0', 'a released savepoint keeps them');
SELECT is(pg_temp.exact(), 0::bigint, 'equal to a recount');

-- moves, and the three ways a status is hidden and shown again
UPDATE crm.person SET company_id = 2 WHERE id = 7;                     -- into a customer: hidden
SELECT is(pg_temp.counts(), 'open=1/1 contacting=1/0 qualified=1/0', 'a move into a customer: retained');
UPDATE crm.company SET category = 'customer' WHERE id = 3;             -- a company's category
SELECT is(pg_temp.counts(), 'open=1/1 contacting=0/1 qualified=1/0', 'a company becoming a customer: its persons retained');
UPDATE crm.company SET category = 'mql' WHERE id = 1;                  -- the same side
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'mql';  -- a catalog flip
SELECT is(pg_temp.counts(), 'open=0/2 contacting=0/1 qualified=0/1', 'a catalog flip: retained');
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'mql';
SELECT is(pg_temp.counts(), 'open=2/1 contacting=0/1', 'and back: shown again, with the default (B2, reentry = reset)');
SELECT results_eq($$SELECT category, companies, persons FROM lead_mgmt.category_counts
                     WHERE companies > 0 OR persons > 0 ORDER BY rank$$,
    $$VALUES ('mql', 1::bigint, 2::bigint), ('customer', 2::bigint, 3::bigint)$$,
    'category_counts follow the companies');
SELECT is(pg_temp.exact(), 0::bigint, 'equal to a recount');

-- merges and category rules
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (8, 1, 'Arne', 'renurture');
SELECT lead_mgmt.merge_status('renurture', 'contacting');
SELECT is(pg_temp.counts(), 'open=2/1 contacting=1/1', 'merge_status(): counted under the new status');
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'renurture';
INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('disqualified', 'lost_opportunity', true);
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 8;
SELECT is((SELECT category FROM crm.company WHERE id = 1), 'lost_opportunity', 'a category rule moved Acme');
SELECT is(pg_temp.counts(), 'open=0/3 contacting=0/1 disqualified=0/1', 'and its persons with it');
SELECT is(pg_temp.exact(), 0::bigint, 'equal to a recount');

-- COPY, MERGE, INSERT ... ON CONFLICT
INSERT INTO crm.company (id, name, category) VALUES (5, 'Eik', 'lead');
COPY crm.person (id, company_id, name) FROM STDIN;
10	5	Eva
11	5	Egil
\.
MERGE INTO crm.person p USING (VALUES (10, 'contacting'), (12, NULL)) v (id, status) ON p.id = v.id
 WHEN MATCHED THEN UPDATE SET lead_status = v.status
 WHEN NOT MATCHED THEN INSERT (id, company_id, name) VALUES (v.id, 5, 'Emil');
INSERT INTO crm.person (id, company_id, name) VALUES (11, 5, 'Egil') ON CONFLICT (id) DO NOTHING;
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (12, 5, 'Emil', 'qualified')
    ON CONFLICT (id) DO UPDATE SET lead_status = EXCLUDED.lead_status;
SELECT is(pg_temp.counts(), 'open=1/3 contacting=1/1 disqualified=0/1 qualified=1/0',
    'COPY, MERGE and ON CONFLICT count what they wrote');
SELECT is(pg_temp.exact(), 0::bigint, 'equal to a recount');

-- the rules off (X1): still counted
SET LOCAL lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3;
UPDATE crm.company SET category = 'lead' WHERE id = 4;
INSERT INTO crm.person (id, company_id, name) VALUES (13, 4, 'Dora');
RESET lead_mgmt.enforce;
SELECT is(pg_temp.exact(), 0::bigint, 'with the rules off, writes are still counted');

-- persons written before their company is visible
SET CONSTRAINTS ALL DEFERRED;
ALTER TABLE crm.person ALTER CONSTRAINT person_company_id_fkey DEFERRABLE;
SET CONSTRAINTS crm.person_company_id_fkey DEFERRED;
INSERT INTO crm.person (id, company_id, name) VALUES (20, 20, 'Fay'), (21, 20, 'Finn');
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 21;
SELECT is(pg_temp.exact(), 0::bigint, 'a person whose company is not there yet is counted without a category');
INSERT INTO crm.company (id, name, category) VALUES (20, 'Fjord', 'lead');
SELECT results_eq($$SELECT id, lead_status FROM crm.person WHERE id IN (20, 21) ORDER BY id$$,
    $$VALUES (20, 'open'), (21, 'contacting')$$, 'the company arrives: the persons are settled');
SELECT is(pg_temp.exact(), 0::bigint, 'and counted under its category');
WITH c AS (INSERT INTO crm.company (id, name, category) VALUES (30, 'Gran', 'mql') RETURNING id)
INSERT INTO crm.person (id, company_id, name) SELECT 30, id, 'Gro' FROM c;
SELECT is(pg_temp.exact(), 0::bigint, 'a company and its person in one statement');

-- deletes: persons, a company with its persons, TRUNCATE
SET CONSTRAINTS ALL IMMEDIATE;
DELETE FROM crm.person WHERE id = 20;
DELETE FROM crm.company WHERE id = 5;
SELECT is(pg_temp.exact(), 0::bigint, 'deleted persons, and persons deleted with their company, are counted out');
SAVEPOINT before_truncate;
TRUNCATE crm.person;
SELECT is(pg_temp.counts(), '', 'TRUNCATE of the persons: no persons counted');
SELECT is((SELECT sum(companies) FROM lead_mgmt.category_counts), (SELECT count(*)::numeric FROM crm.company),
    'the companies stay counted');
TRUNCATE crm.company CASCADE;
SELECT is((SELECT coalesce(sum(companies), 0) FROM lead_mgmt.category_counts), 0::numeric,
    'TRUNCATE of the companies: none counted');
SELECT is(pg_temp.exact(), 0::bigint, 'equal to a recount');
ROLLBACK TO SAVEPOINT before_truncate;
SELECT is(pg_temp.exact(), 0::bigint, 'a rolled-back TRUNCATE leaves the counts as they were');

-- reading does not scan the persons
SELECT is((SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relid = 'crm.person'::regclass),
          (SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relid = 'crm.person'::regclass
            AND (SELECT count(*) FROM lead_mgmt.status_counts) > 0
            AND (SELECT count(*) FROM lead_mgmt.category_group_counts) > 0
            AND (SELECT count(*) FROM lead_mgmt.board_columns) > 0
            AND (SELECT count(*) FROM lead_mgmt.owner_counts) >= 0),
    'the count views read the summary, not the person table');

-- folding and rebuilding change nothing (rows as committed writers append
-- them: a key split over several rows, and rows adding up to zero)
INSERT INTO lead_mgmt.count_delta (kind, category, status, owner, n)
SELECT kind, category, status, owner, d FROM lead_mgmt.count_delta, (VALUES (3), (-3)) v(d) WHERE kind = 'p'
UNION ALL SELECT 'o', 'lead', 'open', 'nobody', 2 UNION ALL SELECT 'o', 'lead', 'open', 'nobody', -2;
SELECT sum(c) AS split_rows FROM (SELECT count(*) AS c FROM lead_mgmt.count_delta
    GROUP BY kind, category, status, owner HAVING count(*) > 1) g \gset
SELECT ok(:split_rows > 2, 'keys split over several rows');
SELECT is(lead_mgmt.compact_counts(), :split_rows::bigint, 'compact_counts() folds the keys with more than one row');
SELECT is((SELECT count(*) FROM lead_mgmt.count_delta WHERE owner = 'nobody'), 0::bigint, 'keys adding up to zero are gone');
SELECT is((SELECT count(*) FROM lead_mgmt.count_delta), (SELECT count(*) FROM (
             SELECT DISTINCT kind, category, status, owner FROM lead_mgmt.count_delta) d),
    'one row per key afterwards');
SELECT is(pg_temp.exact(), 0::bigint, 'still equal to a recount');
SELECT ok(lead_mgmt.rebuild_counts() > 0, 'rebuild_counts() recounts');
SELECT is(pg_temp.exact(), 0::bigint, 'equal to a recount');

-- who may read what
SET LOCAL ROLE lm_count_nobody;
SELECT throws_ok($$SELECT * FROM lead_mgmt.count_delta$$, '42501', NULL, 'the summary table is not readable by everyone');
SELECT throws_ok($$SELECT * FROM lead_mgmt.status_counts$$, '42501', NULL,
    'a role that may not read the persons gets no counts from the summary either');
SELECT throws_ok($$SELECT lead_mgmt.compact_counts()$$, '42501', NULL, 'only lead_mgmt_admin folds');
RESET ROLE;

CREATE FUNCTION pg_temp.visible_total() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(visible)::bigint FROM lead_mgmt.status_counts
$$;
SELECT is(pg_temp.visible_total(), (SELECT count(*) FROM lead_mgmt.person_leads WHERE visible AND lead_status IS NOT NULL),
    'visible counts equal the shown leads of person_leads');
-- what the summary says, and what a reader who may see Sara's and Ola's persons only should count
INSERT INTO crm.person (id, company_id, name, owner) VALUES
    (901, 30, 'Siri', 'sara'), (902, 30, 'Odd', 'ola'), (903, 30, 'Ole', 'ola'), (904, 30, 'Per', 'per');
CREATE TEMP TABLE expected AS
SELECT pg_temp.counts() AS summary,
       (SELECT count(*) FROM crm.person p JOIN crm.company c ON c.id = p.company_id
         WHERE lead_mgmt.is_lead_enabled(c.category) AND p.lead_status IS NOT NULL
           AND p.owner IN ('sara', 'ola')) AS theirs;
GRANT SELECT ON expected TO lm_count_reader;
SET LOCAL ROLE lm_count_reader;
SELECT ok(lead_mgmt.counts_available(), 'an unrestricted reader gets the summary');
SELECT is(pg_temp.counts(), (SELECT summary FROM expected), 'with its numbers');
RESET ROLE;
ALTER TABLE crm.person ENABLE ROW LEVEL SECURITY;
CREATE POLICY sara_and_ola ON crm.person FOR SELECT USING (owner IN ('sara', 'ola'));
SET LOCAL ROLE lm_count_reader;
SELECT ok((SELECT theirs FROM expected) = 3, 'the fixture: three leads of Sara and Ola');
SELECT ok(NOT lead_mgmt.counts_available(), 'a reader under row-level security does not');
SELECT is(pg_temp.visible_total(), (SELECT theirs FROM expected), 'it counts the rows it may see');
SELECT is((SELECT sum(n)::bigint FROM lead_mgmt.count_summary('o') x
             JOIN lead_mgmt.category k ON k.key = x.category AND k.enable_lead_status WHERE x.status IS NOT NULL),
          (SELECT theirs FROM expected), 'count_summary() counts those rows for it too');
SELECT throws_ok($$SELECT * FROM lead_mgmt.count_summary('x')$$, '22023', NULL, 'an unknown kind of count is refused');
RESET ROLE;
CREATE POLICY everyone ON crm.person FOR SELECT USING (true);
SET LOCAL ROLE lm_count_reader;
SELECT is(pg_temp.counts(), (SELECT summary FROM expected),
    'counted row by row under a policy that shows every row: the same numbers as the summary');
RESET ROLE;
ALTER TABLE crm.person DISABLE ROW LEVEL SECURITY;

SELECT * FROM finish();
ROLLBACK;
