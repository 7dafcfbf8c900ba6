-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Security (SPEC section 7, README "Security", "Settings", "Status history",
-- "Administration"): a privilege matrix of six roles (the superuser, the
-- owner of the managed tables who manage()d them as a member of
-- lead_mgmt_admin, a member of lead_mgmt_admin without rights on the CRM's
-- tables, a writer, a read-only BI role, a role with nothing) against every
-- catalog, function, view and setting of lead_mgmt; the pinned search_path
-- and EXECUTE grants of lead_mgmt's functions, read from pg_proc; and a
-- hostile search_path (look-alikes in schemas evil and public, pg_catalog
-- searched late) under which writers and owners get exactly the results of
-- a clean one, without any look-alike being called.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(898);

------------------------------------------------------------------------------
-- Roles (cluster-wide; the ROLLBACK at the end removes them) and fixture
------------------------------------------------------------------------------

CREATE ROLE lm_priv_owner IN ROLE lead_mgmt_admin;
CREATE ROLE lm_priv_admin IN ROLE lead_mgmt_admin;
CREATE ROLE lm_priv_writer;
CREATE ROLE lm_priv_bi;
CREATE ROLE lm_priv_nobody;

-- the owner creates its tables and hands them over itself
CREATE SCHEMA crm AUTHORIZATION lm_priv_owner;
SET ROLE lm_priv_owner;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL, owner text);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name', owner_column => 'owner');
GRANT USAGE ON SCHEMA crm TO lm_priv_writer, lm_priv_bi;
GRANT SELECT, INSERT, UPDATE, DELETE ON crm.company, crm.person TO lm_priv_writer;
GRANT SELECT ON crm.company, crm.person TO lm_priv_bi;
INSERT INTO crm.company (id, name, category) VALUES
    (1, 'Acme', 'lead'), (2, 'Bolt', 'customer'), (3, 'Cargo', 'mql'), (4, 'Dune', 'opportunity');
INSERT INTO crm.person (id, company_id, name, owner) VALUES
    (1, 1, 'Ada', 'alice'), (2, 1, 'Alan', NULL), (3, 2, 'Bea', 'bob'), (4, 3, 'Cato', 'alice'),
    (5, 4, 'Dag', NULL), (6, NULL, 'Eli', NULL);
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 2;
UPDATE crm.person SET lead_status = 'renurture' WHERE id = 4;
-- a retained status, loaded with the rules off (X1)
SET lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3;
RESET lead_mgmt.enforce;
INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('open leads', '{"lead_status": ["open"]}');
RESET ROLE;

-- catalog rows the matrix changes and deletes (unused, not shipped), and a
-- retired status (B6)
INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('spare', 'Spare', 9);
INSERT INTO lead_mgmt.lead_status (key, name, rank, deleted) VALUES ('retired', 'Retired', 10, true);
INSERT INTO lead_mgmt.category (key, name, rank) VALUES ('spare', 'Spare', 9);
INSERT INTO lead_mgmt.status_transition VALUES ('renurture', 'open');
INSERT INTO lead_mgmt.category_label VALUES ('partner', 'de', 'Partner');
INSERT INTO lead_mgmt.lead_status_label VALUES ('open', 'de', 'Offen');
INSERT INTO lead_mgmt.category_group_label VALUES ('lost', 'de', 'Verloren');
-- suggest only (lead_mgmt.category_suggestions shows Alan's company)
INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('disqualified', 'lost_opportunity');
-- run the deferred catalog checks now: unmanage() alters the catalogs
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;

-- What a statement does when run as a role: 'ok', '0 rows' (a read or
-- write that saw no row, such as an update row-level security filtered
-- out) or the SQLSTATE it raised.  Every action runs in a subtransaction
-- that is rolled back, whatever the outcome: the actions do not depend on
-- each other, and the role and settings come back with the rollback.
CREATE FUNCTION pg_temp.outcome(who text, action text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    n bigint;
    reads boolean := action ~* '^\s*(select|insert|update|delete|with|table)\M';
BEGIN
    BEGIN
        IF who <> 'superuser' THEN
            EXECUTE format('SET LOCAL ROLE %I', who);
        END IF;
        EXECUTE action;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF reads AND n = 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'LMNO0';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'LMOK0';
    EXCEPTION WHEN OTHERS THEN
        state := CASE SQLSTATE WHEN 'LMOK0' THEN 'ok' WHEN 'LMNO0' THEN '0 rows' ELSE SQLSTATE END;
    END;
    RESET ROLE;
    RETURN state;
END
$$;

------------------------------------------------------------------------------
-- 1. The matrix: one row per action, the expected outcome per role
------------------------------------------------------------------------------

CREATE TEMP TABLE privilege_matrix (
    n           serial,
    action      text NOT NULL,     -- what the test description says
    sql         text NOT NULL,
    superuser   text,              -- expected: 'ok', '0 rows' or a SQLSTATE
    owner       text,
    admin       text,
    writer      text,
    bi_reader   text,
    nobody      text
);

INSERT INTO privilege_matrix (action, sql, superuser, owner, admin, writer, bi_reader, nobody) VALUES
    -- catalogs: everyone reads them (SPEC 10); the internal tables are nobody's
    ('SELECT lead_mgmt.category', 'SELECT 1 FROM lead_mgmt.category LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.lead_status', 'SELECT 1 FROM lead_mgmt.lead_status LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.status_transition', 'SELECT 1 FROM lead_mgmt.status_transition LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.category_label', 'SELECT 1 FROM lead_mgmt.category_label LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.lead_status_label', 'SELECT 1 FROM lead_mgmt.lead_status_label LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.category_group_label', 'SELECT 1 FROM lead_mgmt.category_group_label LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.category_rule', 'SELECT 1 FROM lead_mgmt.category_rule LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.registration', 'SELECT 1 FROM lead_mgmt.registration LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.selection', 'SELECT 1 FROM lead_mgmt.selection LIMIT 1',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SELECT lead_mgmt.settle_marker', 'SELECT count(*) FROM lead_mgmt.settle_marker',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('SELECT lead_mgmt.count_delta', 'SELECT count(*) FROM lead_mgmt.count_delta',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    -- history: the rows of the persons one may read; lead_mgmt_admin reads all
    -- of it given SELECT on the person table (README "Status history"): a
    -- role that may read no person is refused, lead_mgmt_admin included
    ('SELECT lead_mgmt.status_history', 'SELECT 1 FROM lead_mgmt.status_history LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),

    -- catalogs are written by lead_mgmt_admin only
    ('INSERT lead_mgmt.category', $$INSERT INTO lead_mgmt.category (key, name, rank) VALUES ('webinar', 'Webinar', 7)$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.category', $$UPDATE lead_mgmt.category SET description = 'x' WHERE key = 'partner'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.category', $$DELETE FROM lead_mgmt.category WHERE key = 'spare'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.lead_status', $$INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('booked', 'Booked', 6)$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.lead_status', $$UPDATE lead_mgmt.lead_status SET description = 'x' WHERE key = 'qualified'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.lead_status', $$DELETE FROM lead_mgmt.lead_status WHERE key = 'spare'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('TRUNCATE lead_mgmt.lead_status', 'TRUNCATE lead_mgmt.lead_status',
        '0A000', '0A000', '0A000', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.status_transition', $$INSERT INTO lead_mgmt.status_transition VALUES ('open', 'contacting')$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.status_transition', $$UPDATE lead_mgmt.status_transition SET to_status = 'contacting' WHERE from_status = 'renurture'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.status_transition', $$DELETE FROM lead_mgmt.status_transition WHERE from_status = 'renurture'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.category_label', $$INSERT INTO lead_mgmt.category_label VALUES ('lead', 'de', 'Lead')$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.category_label', $$UPDATE lead_mgmt.category_label SET description = 'x' WHERE category = 'partner' AND language = 'de'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.category_label', $$DELETE FROM lead_mgmt.category_label WHERE category = 'partner' AND language = 'de'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.lead_status_label', $$INSERT INTO lead_mgmt.lead_status_label VALUES ('qualified', 'de', 'Qualifiziert')$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.lead_status_label', $$UPDATE lead_mgmt.lead_status_label SET description = 'x' WHERE status = 'open' AND language = 'de'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.lead_status_label', $$DELETE FROM lead_mgmt.lead_status_label WHERE status = 'open' AND language = 'de'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.category_group_label', $$INSERT INTO lead_mgmt.category_group_label VALUES ('partner', 'de', 'Partner')$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.category_group_label', $$UPDATE lead_mgmt.category_group_label SET description = 'x' WHERE category_group = 'lost' AND language = 'de'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.category_group_label', $$DELETE FROM lead_mgmt.category_group_label WHERE category_group = 'lost' AND language = 'de'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.category_rule', $$INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('qualified', 'opportunity', true)$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.category_rule', 'UPDATE lead_mgmt.category_rule SET enabled = false',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.category_rule', 'DELETE FROM lead_mgmt.category_rule',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    -- the registration is written by manage()/unmanage() only, lead_mgmt_admin
    -- included (a superuser meets its singleton key)
    ('INSERT lead_mgmt.registration', 'INSERT INTO lead_mgmt.registration SELECT * FROM lead_mgmt.registration',
        '23505', '42501', '42501', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.registration', 'UPDATE lead_mgmt.registration SET label_column = NULL',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.registration', 'DELETE FROM lead_mgmt.registration',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.settle_marker', 'INSERT INTO lead_mgmt.settle_marker DEFAULT VALUES',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('INSERT lead_mgmt.count_delta', $$INSERT INTO lead_mgmt.count_delta (company_id, kind, category, n) VALUES (1, 'c', 'lead', 5)$$,
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.count_delta', 'UPDATE lead_mgmt.count_delta SET n = n + 1',
        '0 rows', '42501', '42501', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.count_delta', 'DELETE FROM lead_mgmt.count_delta',
        '0 rows', '42501', '42501', '42501', '42501', '42501'),
    -- saved selections: anyone saves one of their own; only its author and
    -- lead_mgmt_admin change or delete it (the owner's one here)
    ('INSERT lead_mgmt.selection (own)', $$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('mine', '{"category": ["lead"]}')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('INSERT lead_mgmt.selection (in another''s name)',
        $$INSERT INTO lead_mgmt.selection (name, criteria, created_by) VALUES ('forged', '{}', 'lm_priv_someone')$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.selection (the owner''s)', $$UPDATE lead_mgmt.selection SET description = 'x' WHERE name = 'open leads'$$,
        'ok', 'ok', 'ok', '0 rows', '0 rows', '0 rows'),
    ('DELETE lead_mgmt.selection (the owner''s)', $$DELETE FROM lead_mgmt.selection WHERE name = 'open leads'$$,
        'ok', 'ok', 'ok', '0 rows', '0 rows', '0 rows'),
    -- history is append-only for everyone; lead_mgmt_admin appends (imports)
    ('INSERT lead_mgmt.status_history',
        $$INSERT INTO lead_mgmt.status_history (company_id, person_id, from_status, to_status, event, category, changed_at, changed_by, visible)
          VALUES (1, 1, 'open', 'contacting', 'set', 'lead', now(), 'import', true)$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('UPDATE lead_mgmt.status_history', $$UPDATE lead_mgmt.status_history SET source = 'x'$$,
        '42501', '42501', '42501', '42501', '42501', '42501'),
    ('DELETE lead_mgmt.status_history', 'DELETE FROM lead_mgmt.status_history',
        '42501', '42501', '42501', '42501', '42501', '42501'),
    ('TRUNCATE lead_mgmt.status_history', 'TRUNCATE lead_mgmt.status_history',
        '42501', '42501', '42501', '42501', '42501', '42501'),
    ('ALTER TABLE lead_mgmt.status_history DISABLE TRIGGER', 'ALTER TABLE lead_mgmt.status_history DISABLE TRIGGER status_history_append_only',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    -- nobody but the extension's owner adds to or drops from schema lead_mgmt
    ('CREATE TABLE in schema lead_mgmt', 'CREATE TABLE lead_mgmt.lm_priv_planted (id int)',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('DROP VIEW lead_mgmt.board_by_owner', 'DROP VIEW lead_mgmt.board_by_owner',
        'ok', '42501', '42501', '42501', '42501', '42501'),

    -- functions
    ('lead_mgmt.manage() (already managed)', $$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$,
        '42710', '42710', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.unmanage()', 'SELECT lead_mgmt.unmanage()',
        'ok', 'ok', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.start_history()', 'SELECT lead_mgmt.start_history()',
        'ok', 'ok', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.purge_history()', 'SELECT lead_mgmt.purge_history(now())',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('lead_mgmt.merge_status()', $$SELECT lead_mgmt.merge_status('renurture', 'contacting')$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    -- the verify functions read the managed tables as their caller
    ('lead_mgmt.verify_history()', 'SELECT count(*) FROM lead_mgmt.verify_history()',
        'ok', 'ok', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.verify_counts()', 'SELECT count(*) FROM lead_mgmt.verify_counts()',
        'ok', 'ok', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.rebuild_counts()', 'SELECT lead_mgmt.rebuild_counts()',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('lead_mgmt.compact_counts()', 'SELECT lead_mgmt.compact_counts()',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('lead_mgmt.count_summary()', $$SELECT count(*) FROM lead_mgmt.count_summary('p')$$,
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('lead_mgmt.counts_available() is true', 'SELECT 1 WHERE lead_mgmt.counts_available()',
        'ok', 'ok', '0 rows', 'ok', 'ok', '0 rows'),
    ('lead_mgmt.transaction_changes()', 'SELECT count(*) FROM lead_mgmt.transaction_changes()',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.status_counts_at()', 'SELECT count(*) FROM lead_mgmt.status_counts_at(now())',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('lead_mgmt.funnel()', $$SELECT count(*) FROM lead_mgmt.funnel(now() - interval '1 year', now())$$,
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('lead_mgmt.history_persons()', 'SELECT count(*) FROM lead_mgmt.history_persons()',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('lead_mgmt.advance_category()', $$SELECT lead_mgmt.advance_category(4, 'mql')$$,
        'ok', 'ok', '42501', 'ok', '42501', '42501'),
    ('lead_mgmt.next_category()', 'SELECT lead_mgmt.next_category(1)',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('lead_mgmt.selection_members()', $$SELECT count(*) FROM lead_mgmt.selection_members('open leads')$$,
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('lead_mgmt.is_lead_enabled()', $$SELECT lead_mgmt.is_lead_enabled('lead')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.status_name()', $$SELECT lead_mgmt.status_name('open')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.status_description()', $$SELECT lead_mgmt.status_description('open')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.category_name()', $$SELECT lead_mgmt.category_name('lead')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.category_description()', $$SELECT lead_mgmt.category_description('lead')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.category_group_name()', $$SELECT lead_mgmt.category_group_name('lost')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.status_labels()', $$SELECT * FROM lead_mgmt.status_labels('open')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.category_labels()', $$SELECT * FROM lead_mgmt.category_labels('lead')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.category_group_labels()', $$SELECT * FROM lead_mgmt.category_group_labels('lost')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.current_language()', 'SELECT lead_mgmt.current_language()',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.no_owner_label()', 'SELECT lead_mgmt.no_owner_label()',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.unknown_key()', $$SELECT lead_mgmt.unknown_key('lead status', 'nope')$$,
        '23503', '23503', '23503', '23503', '23503', '23503'),
    ('lead_mgmt.is_distributed()', $$SELECT lead_mgmt.is_distributed('lead_mgmt.category')$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('lead_mgmt.distributed_catalogs()', 'SELECT lead_mgmt.distributed_catalogs()',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    -- a superuser's, and this database has no Citus
    ('lead_mgmt.distribute()', 'SELECT lead_mgmt.distribute()',
        '55000', '42501', '42501', '42501', '42501', '42501'),
    -- internal functions
    ('lead_mgmt.build_views()', 'SELECT lead_mgmt.build_views()',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.drop_views()', 'SELECT lead_mgmt.drop_views()',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.build_analytics()', 'SELECT lead_mgmt.build_analytics()',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.drop_analytics()', 'SELECT lead_mgmt.drop_analytics()',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.change_triggers()', 'SELECT lead_mgmt.change_triggers(false)',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('lead_mgmt.generated_views()', 'SELECT lead_mgmt.generated_views()',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    -- (outside the change sink's own write it has no rows)
    ('lead_mgmt.history_batch()',
        $$SELECT 1 FROM lead_mgmt.history_batch()
              AS b (q bigint, c int, p int, f text, t text, e lead_mgmt.history_event, k text, w timestamptz, s text, v boolean)$$,
        '0 rows', '42501', '42501', '42501', '42501', '42501'),
    ('attach lead_mgmt.person_rules() to a table of one''s own',
        $$CREATE TEMP TABLE lm_priv_mine (id int, company_id int, lead_status text);
          CREATE TRIGGER lm_priv_attach BEFORE INSERT ON lm_priv_mine
              FOR EACH ROW EXECUTE FUNCTION lead_mgmt.person_rules('person')$$,
        'ok', '42501', '42501', '42501', '42501', '42501'),

    -- views: the reader's rights on the managed tables apply (security_invoker)
    ('SELECT lead_mgmt.person_leads', 'SELECT 1 FROM lead_mgmt.person_leads LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.company_leads', 'SELECT 1 FROM lead_mgmt.company_leads LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.board_columns', 'SELECT 1 FROM lead_mgmt.board_columns LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.board', 'SELECT 1 FROM lead_mgmt.board LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.board_columns_by_category', 'SELECT 1 FROM lead_mgmt.board_columns_by_category LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.board_by_category', 'SELECT 1 FROM lead_mgmt.board_by_category LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.board_columns_by_owner', 'SELECT 1 FROM lead_mgmt.board_columns_by_owner LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.board_by_owner', 'SELECT 1 FROM lead_mgmt.board_by_owner LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.status_counts', 'SELECT 1 FROM lead_mgmt.status_counts LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.category_counts', 'SELECT 1 FROM lead_mgmt.category_counts LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.category_group_counts', 'SELECT 1 FROM lead_mgmt.category_group_counts LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.owner_counts', 'SELECT 1 FROM lead_mgmt.owner_counts LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.category_suggestions', 'SELECT 1 FROM lead_mgmt.category_suggestions LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.time_in_status', 'SELECT 1 FROM lead_mgmt.time_in_status LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.aging', 'SELECT 1 FROM lead_mgmt.aging LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.funnel', 'SELECT 1 FROM lead_mgmt.funnel LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    ('SELECT lead_mgmt.new_leads', 'SELECT 1 FROM lead_mgmt.new_leads LIMIT 1',
        'ok', 'ok', '42501', 'ok', 'ok', '42501'),
    -- (not updatable, whoever asks)
    ('UPDATE lead_mgmt.person_leads', $$UPDATE lead_mgmt.person_leads SET lead_status = 'qualified'$$,
        '55000', '55000', '55000', '55000', '55000', '55000'),

    -- settings (X1, H1): only superusers and lead_mgmt_admin turn the rules or
    -- the history off, by any route; the others are anyone's
    ('SET lead_mgmt.enforce = off', 'SET lead_mgmt.enforce = off',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('SET lead_mgmt.track_history = off', 'SET lead_mgmt.track_history = off',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('set_config(lead_mgmt.enforce, off)', $$SELECT set_config('lead_mgmt.enforce', 'off', true)$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('set_config(lead_mgmt.track_history, off)', $$SELECT set_config('lead_mgmt.track_history', 'off', false)$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('ALTER ROLE CURRENT_USER SET lead_mgmt.enforce = off', 'ALTER ROLE CURRENT_USER SET lead_mgmt.enforce = off',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('ALTER ROLE CURRENT_USER SET lead_mgmt.track_history = off', 'ALTER ROLE CURRENT_USER SET lead_mgmt.track_history = off',
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('a function with SET lead_mgmt.enforce = off',
        $$CREATE FUNCTION pg_temp.lm_priv_rules_off() RETURNS int LANGUAGE sql SET lead_mgmt.enforce = off AS 'SELECT 1'$$,
        'ok', 'ok', 'ok', '42501', '42501', '42501'),
    ('SET session_replication_role = replica', 'SET session_replication_role = replica',
        'ok', '42501', '42501', '42501', '42501', '42501'),
    ('SET lead_mgmt.enforce = on', 'SET lead_mgmt.enforce = on',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SET lead_mgmt.track_history = on', 'SET lead_mgmt.track_history = on',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SET lead_mgmt.source', $$SET lead_mgmt.source = 'import 2026-12'$$,
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SET lead_mgmt.language = nb', 'SET lead_mgmt.language = nb',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
    ('SET lead_mgmt.language = xx (no labels)', 'SET lead_mgmt.language = xx',
        '22023', '22023', '22023', '22023', '22023', '22023'),
    ('SET lead_mgmt.reentry = restore', 'SET lead_mgmt.reentry = restore',
        'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),

    -- the managed tables: the usual rights, and the rules apply to everyone
    ('INSERT a person without a status (B1)', $$INSERT INTO crm.person (id, company_id, name) VALUES (100, 1, 'Nora')$$,
        'ok', 'ok', '42501', 'ok', '42501', '42501'),
    ('INSERT a person with a hidden status (B5)', $$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (100, 2, 'Nils', 'qualified')$$,
        '23L01', '23L01', '42501', '23L01', '42501', '42501'),
    ('INSERT a person with a deleted status (B6)', $$INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (100, 1, 'Nina', 'retired')$$,
        '23L03', '23L03', '42501', '23L03', '42501', '42501'),
    ('UPDATE a visible status', $$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$,
        'ok', 'ok', '42501', 'ok', '42501', '42501'),
    ('UPDATE a hidden status (B5)', $$UPDATE crm.person SET lead_status = 'open' WHERE id = 3$$,
        '23L01', '23L01', '42501', '23L01', '42501', '42501'),
    ('UPDATE a company''s category', $$UPDATE crm.company SET category = 'customer' WHERE id = 1$$,
        'ok', 'ok', '42501', 'ok', '42501', '42501'),
    ('DELETE a person', 'DELETE FROM crm.person WHERE id = 2',
        'ok', 'ok', '42501', 'ok', '42501', '42501'),
    ('TRUNCATE crm.person', 'TRUNCATE crm.person',
        'ok', 'ok', '42501', '42501', '42501', '42501'),
    ('ALTER TABLE crm.person DISABLE TRIGGER lead_mgmt_person_rules', 'ALTER TABLE crm.person DISABLE TRIGGER lead_mgmt_person_rules',
        'ok', 'ok', '42501', '42501', '42501', '42501');

SELECT is(pg_temp.outcome(m.role_name, m.sql), m.expected, format('%s: %s -> %s', m.role, m.action, m.expected))
  FROM (SELECT r.role, r.role_name, p.action, p.sql, r.expected
          FROM privilege_matrix p
         CROSS JOIN LATERAL (VALUES (1, 'superuser', 'superuser', p.superuser),
                                    (2, 'owner', 'lm_priv_owner', p.owner),
                                    (3, 'admin', 'lm_priv_admin', p.admin),
                                    (4, 'writer', 'lm_priv_writer', p.writer),
                                    (5, 'bi_reader', 'lm_priv_bi', p.bi_reader),
                                    (6, 'nobody', 'lm_priv_nobody', p.nobody)) AS r (k, role, role_name, expected)
         WHERE r.expected IS NOT NULL
         ORDER BY p.n, r.k) m;

-- the rules-off settings of a privileged session do not carry over to a
-- role it switches to: the rule check itself refuses
SET lead_mgmt.enforce = off;
SELECT is(pg_temp.outcome('lm_priv_writer', $$UPDATE crm.person SET lead_status = 'open' WHERE id = 3$$), '42501',
    'writer: UPDATE a hidden status with lead_mgmt.enforce = off set by the superuser -> 42501');
SELECT is(pg_temp.outcome('lm_priv_owner', $$UPDATE crm.person SET lead_status = 'open' WHERE id = 3$$), 'ok',
    'owner: UPDATE a hidden status with lead_mgmt.enforce = off set by the superuser -> ok');
RESET lead_mgmt.enforce;
SET lead_mgmt.track_history = off;
SELECT is(pg_temp.outcome('lm_priv_writer', $$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$), '42501',
    'writer: UPDATE a visible status with lead_mgmt.track_history = off set by the superuser -> 42501');
SELECT is(pg_temp.outcome('lm_priv_admin', $$SELECT lead_mgmt.merge_status('renurture', 'contacting')$$), 'ok',
    'admin: merge_status() with lead_mgmt.track_history = off set by the superuser -> ok');
RESET lead_mgmt.track_history;

------------------------------------------------------------------------------
-- 2. pg_proc: pinned search_path and EXECUTE grants
------------------------------------------------------------------------------

-- every function that runs with the rights of its owner pins search_path
-- (this release has no SECURITY DEFINER function: the C functions that
-- switch to the tables' or the extension's owner run generated,
-- schema-qualified SQL, which section 3 runs under hostile paths)
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'lead_mgmt'::regnamespace AND p.prosecdef
                     AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
    'every SECURITY DEFINER function of lead_mgmt pins search_path = pg_catalog, pg_temp');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'lead_mgmt'::regnamespace AND p.prosecdef
                     AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
    'no SECURITY DEFINER function of lead_mgmt is executable by PUBLIC');
-- SQL and PL/pgSQL bodies are parsed with a pinned search_path, or once
-- when created (BEGIN ATOMIC)
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                   WHERE p.pronamespace = 'lead_mgmt'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
                     AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
                     AND p.prosqlbody IS NULL$$,
    'every SQL and PL/pgSQL function of lead_mgmt pins search_path or has a BEGIN ATOMIC body');
SELECT is_empty($$SELECT p.oid::regprocedure, c FROM pg_proc p, unnest(p.proconfig) c
                   WHERE p.pronamespace = 'lead_mgmt'::regnamespace AND c LIKE 'search_path=%'
                     AND c <> 'search_path=pg_catalog, pg_temp'$$,
    'every pinned search_path of lead_mgmt is exactly pg_catalog, pg_temp (pg_temp last)');
-- what PUBLIC may execute: readers that run as their caller, and the
-- entry points that check their caller themselves (manage(), unmanage(),
-- start_history(): lead_mgmt_admin and the tables' owner)
SELECT set_eq($$SELECT p.proname::text FROM pg_proc p
                 WHERE p.pronamespace = 'lead_mgmt'::regnamespace
                   AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
    ARRAY['manage', 'unmanage', 'start_history', 'transaction_changes', 'current_language', 'unknown_key',
          'status_labels', 'category_labels', 'category_group_labels', 'category_name', 'category_description',
          'status_name', 'status_description', 'category_group_name', 'is_lead_enabled', 'no_owner_label',
          'counts_available', 'count_summary', 'selection_members', 'funnel', 'advance_category', 'next_category',
          'history_persons', 'status_counts_at', 'distributed_catalogs', 'is_distributed'],
    'the functions PUBLIC may execute are the readers and the self-checking entry points');
SELECT set_eq($$SELECT p.proname::text FROM pg_proc p
                 WHERE p.pronamespace = 'lead_mgmt'::regnamespace
                   AND has_function_privilege('lead_mgmt_admin', p.oid, 'EXECUTE')
                   AND NOT has_function_privilege('public', p.oid, 'EXECUTE')$$,
    ARRAY['purge_history', 'merge_status', 'rebuild_counts', 'compact_counts', 'verify_history', 'verify_counts'],
    'the functions for lead_mgmt_admin only');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'lead_mgmt'::regnamespace
                     AND p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
                     AND (has_function_privilege('public', p.oid, 'EXECUTE')
                          OR has_function_privilege('lead_mgmt_admin', p.oid, 'EXECUTE'))$$,
    'no trigger or event trigger function of lead_mgmt is executable by PUBLIC or lead_mgmt_admin');
SELECT is_empty($$SELECT c.oid::regclass, x.privilege FROM pg_class c
                    CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) x (privilege)
                   WHERE c.relnamespace = 'lead_mgmt'::regnamespace AND c.relkind IN ('r', 'v')
                     AND c.relname <> 'selection'
                     AND has_table_privilege('public', c.oid, x.privilege)$$,
    'PUBLIC writes no table or view of lead_mgmt but lead_mgmt.selection (row-level security)');
SELECT is_empty($$SELECT c.oid::regclass FROM pg_class c
                   WHERE c.relnamespace = 'lead_mgmt'::regnamespace AND c.relkind = 'v'
                     AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)$$,
    'every view of lead_mgmt is security_invoker');
SELECT ok(NOT has_schema_privilege('public', 'lead_mgmt', 'CREATE')
          AND NOT has_schema_privilege('lead_mgmt_admin', 'lead_mgmt', 'CREATE'),
    'neither PUBLIC nor lead_mgmt_admin may create objects in schema lead_mgmt');

------------------------------------------------------------------------------
-- 3. A hostile search_path
------------------------------------------------------------------------------

-- Every look-alike counts its calls in a sequence (not rolled back with the
-- statement that called it) and gives a wrong answer.
CREATE SEQUENCE public.lm_priv_lookalike_calls;
GRANT USAGE ON SEQUENCE public.lm_priv_lookalike_calls TO PUBLIC;
CREATE FUNCTION pg_temp.lookalike_calls() RETURNS bigint LANGUAGE sql AS $$
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.lm_priv_lookalike_calls
$$;

CREATE SCHEMA evil;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
CREATE FUNCTION evil.called() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.nextval('public.lm_priv_lookalike_calls');
    RETURN true;
END
$$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN '2000-01-01 00:00+00'; END$$;
CREATE FUNCTION evil.statement_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN '2000-01-01 00:00+00'; END$$;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE FUNCTION evil.upper(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'EVIL'; END$$;
CREATE FUNCTION evil.format(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE FUNCTION evil.format(text, text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE FUNCTION evil.format(text, text, text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE FUNCTION evil.quote_ident(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE FUNCTION evil.quote_literal(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN '''evil'''; END$$;
CREATE FUNCTION evil.strpos(text, text) RETURNS int LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 1; END$$;
CREATE FUNCTION evil.current_setting(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'nb'; END$$;
CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'nb'; END$$;
CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE FUNCTION evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 1; END$$;
CREATE FUNCTION evil.pg_has_role(name, text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN true; END$$;
CREATE FUNCTION evil.to_regclass(text) RETURNS regclass LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN NULL; END$$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN; END$$;
-- look-alikes of lead_mgmt's own functions, found before schema lead_mgmt
CREATE FUNCTION evil.is_lead_enabled(text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN true; END$$;
CREATE FUNCTION public.is_lead_enabled(text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN true; END$$;
CREATE FUNCTION evil.status_name(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'EVIL'; END$$;
CREATE FUNCTION evil.category_name(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'EVIL'; END$$;
CREATE FUNCTION evil.current_language() RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'nb'; END$$;
CREATE FUNCTION evil.counts_available() RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN false; END$$;
-- aggregates
CREATE FUNCTION evil.count_step(bigint) RETURNS bigint LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 1000; END$$;
CREATE AGGREGATE evil.count(*) (sfunc = evil.count_step, stype = bigint, initcond = '0');
CREATE FUNCTION evil.sum_step(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 1000; END$$;
CREATE AGGREGATE evil.sum(bigint) (sfunc = evil.sum_step, stype = bigint);
CREATE FUNCTION evil.string_agg_step(text, text, text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE AGGREGATE evil.string_agg(text, text) (sfunc = evil.string_agg_step, stype = text);
-- operators
CREATE FUNCTION evil.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN true; END$$;
CREATE FUNCTION evil.text_ne(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN false; END$$;
CREATE FUNCTION evil.int_eq(int, int) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN true; END$$;
CREATE FUNCTION evil.bigint_gt(bigint, int) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN true; END$$;
CREATE FUNCTION evil.ts_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN true; END$$;
CREATE FUNCTION evil.text_cat(text, text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.called(); RETURN 'evil'; END$$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_ne);
CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.int_eq);
CREATE OPERATOR evil.> (LEFTARG = bigint, RIGHTARG = int, FUNCTION = evil.bigint_gt);
CREATE OPERATOR evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.ts_lt);
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_cat);
-- types: a cast to an unqualified text, int8 or timestamptz lands here
CREATE DOMAIN evil.text AS pg_catalog.text CHECK (evil.called());
CREATE DOMAIN evil.int8 AS pg_catalog.int8 CHECK (evil.called());
CREATE DOMAIN evil.timestamptz AS pg_catalog.timestamptz CHECK (evil.called());
-- tables named like lead_mgmt's, with wrong rows
CREATE TABLE evil.lead_status (key text, name text, description text, kind text, rank int, is_default boolean,
    deleted boolean, stale_after_days int, shipped boolean);
INSERT INTO evil.lead_status VALUES ('evil', 'Evil', NULL, 'open', 0, true, false, NULL, false),
    ('open', 'Open', NULL, 'open', 1, false, true, NULL, true);
CREATE TABLE public.lead_status (LIKE evil.lead_status);
INSERT INTO public.lead_status SELECT * FROM evil.lead_status;
CREATE TABLE evil.category (key text, name text, description text, category_group text, enable_lead_status boolean,
    rank int, deleted boolean, shipped boolean);
INSERT INTO evil.category VALUES ('lead', 'Lead', NULL, 'customer', false, 1, false, true),
    ('customer', 'Customer', NULL, 'potential_customer', true, 5, false, true);
CREATE TABLE evil.registration (company_table regclass, person_table regclass);
INSERT INTO evil.registration VALUES ('evil.category', 'evil.lead_status');
CREATE TABLE evil.status_history (LIKE lead_mgmt.status_history);
CREATE TABLE evil.count_delta (LIKE lead_mgmt.count_delta);
INSERT INTO evil.count_delta VALUES (1, 'p', 'lead', 'open', NULL, 1000);
CREATE TABLE evil.settle_marker (queued_at timestamptz);
CREATE TABLE evil.category_rule (status text, category text, enabled boolean, automatic boolean);
INSERT INTO evil.category_rule VALUES ('contacting', 'partner', true, true);
CREATE TABLE evil.status_transition (from_status text, to_status text);
INSERT INTO evil.status_transition VALUES ('open', 'qualified');
CREATE TABLE evil.selection (LIKE lead_mgmt.selection);
CREATE TABLE evil.lead_status_label (status text, language text, name text, description text, shipped boolean);
INSERT INTO evil.lead_status_label VALUES ('open', 'en', 'EVIL', 'EVIL', false), ('open', 'nb', 'EVIL', 'EVIL', false);
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA evil TO PUBLIC;
GRANT SELECT ON public.lead_status TO PUBLIC;

-- The state a scenario leaves, read as the superuser with a pinned path.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT concat_ws(E'\n',
        (SELECT string_agg(format('%s:%s:%s', id, company_id, coalesce(lead_status, '-')), ' ' ORDER BY id) FROM crm.person),
        (SELECT string_agg(format('%s:%s', id, coalesce(category, '-')), ' ' ORDER BY id) FROM crm.company),
        (SELECT string_agg(format('%s/%s %s>%s %s@%s visible=%s source=%s by=%s this_statement=%s', person_id, company_id,
                                  coalesce(from_status, '-'), coalesce(to_status, '-'), event, coalesce(category, '-'),
                                  visible, source, changed_by, changed_at = statement_timestamp()), ' ' ORDER BY seq)
           FROM lead_mgmt.status_history),
        (SELECT string_agg(format('%s/%s/%s/%s=%s', k.kind, x.category, x.status, x.owner, x.n), ' '
                           ORDER BY k.kind, x.category, x.status, x.owner)
           FROM (VALUES ('p'::"char"), ('o'), ('c')) k (kind), lead_mgmt.count_summary(k.kind) x),
        (SELECT format('verify_counts=%s', count(*)) FROM lead_mgmt.verify_counts()),
        (SELECT format('verify_history=%s', count(*)) FROM lead_mgmt.verify_history()),
        (SELECT string_agg(format('%s=%s', event, persons), ' ' ORDER BY event) FROM lead_mgmt.transaction_changes()),
        (SELECT string_agg(format('%s:%s:%s:%s', key, is_default, deleted, rank), ' ' ORDER BY key) FROM lead_mgmt.lead_status),
        (SELECT string_agg(format('%s:%s:%s:%s', key, category_group, enable_lead_status, deleted), ' ' ORDER BY key)
           FROM lead_mgmt.category),
        (SELECT string_agg(format('%s>%s', from_status, to_status), ' ' ORDER BY from_status, to_status) FROM lead_mgmt.status_transition),
        (SELECT string_agg(format('%s>%s:%s:%s', status, category, enabled, automatic), ' ' ORDER BY status, category)
           FROM lead_mgmt.category_rule),
        (SELECT string_agg(format('%s:%s:%s', name, created_by, criteria), ' ' ORDER BY name) FROM lead_mgmt.selection),
        (SELECT format('%s/%s/%s/%s', company_table, person_table, label_column, owner_column) FROM lead_mgmt.registration),
        (SELECT format('views=%s', count(*)) FROM pg_class WHERE relnamespace = 'lead_mgmt'::regnamespace AND relkind = 'v'))
$$;

-- Runs a scenario as a role under a search_path (NULL: the session's
-- clean one), reads what it returns there, and rolls it back: its outcome
-- (with the error message, which would show a hijacked format()), what the
-- read returned and the state it left.
CREATE FUNCTION pg_temp.scenario(who text, path text, actions text, reading text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    set_role text := CASE WHEN who <> 'superuser' THEN format('SET LOCAL ROLE %I', who) END;
    set_path text := 'SET LOCAL search_path = ' || coalesce(path, current_setting('search_path'));
    read_all text := 'SELECT pg_catalog.string_agg(r::pg_catalog.text, '' | '' ORDER BY r::pg_catalog.text) FROM ('
                     || reading || ') r';
    outcome text;
    seen text;
    left_state text;
BEGIN
    BEGIN
        IF set_role IS NOT NULL THEN
            EXECUTE set_role;
        END IF;
        EXECUTE set_path;
        IF actions IS NOT NULL THEN
            EXECUTE actions;
        END IF;
        IF reading IS NOT NULL THEN
            EXECUTE read_all INTO seen;
        END IF;
        RESET ROLE;
        left_state := pg_temp.state();
        RAISE EXCEPTION USING ERRCODE = 'LMOK0';
    EXCEPTION WHEN OTHERS THEN
        outcome := CASE WHEN SQLSTATE = 'LMOK0' THEN 'ok' ELSE SQLSTATE || ': ' || SQLERRM END;
    END;
    RETURN concat_ws(E'\n', outcome, seen, left_state);
END
$$;

-- the look-alikes do take over unqualified names under these paths, and
-- the comparison below tells their answers from the real ones
SELECT is(split_part(pg_temp.scenario('lm_priv_writer', 'evil, public, lead_mgmt, pg_catalog', NULL,
              $$SELECT now() < now() AS lt, lower('A') AS lower, 'a' = 'b' AS eq, 1 = 2 AS int_eq,
                       is_lead_enabled('customer') AS enabled, status_name('open') AS status,
                       (SELECT count(*) FROM lead_status) AS statuses$$), E'\n', 2),
    '(t,evil,t,t,t,EVIL,1000)',
    'writer: the look-alikes answer unqualified names under search_path evil, public, lead_mgmt, pg_catalog');
SELECT is(split_part(pg_temp.scenario('lm_priv_owner', 'public, evil, pg_catalog, lead_mgmt', NULL,
              $$SELECT lower('A') AS lower, 'a' = 'b' AS eq, is_lead_enabled('customer') AS enabled,
                       (SELECT key FROM lead_status WHERE is_default) AS default_status$$), E'\n', 2),
    '(evil,t,t,evil)',
    'owner: the look-alikes answer unqualified names under search_path public, evil, pg_catalog, lead_mgmt');
SELECT isnt(pg_temp.scenario('lm_priv_writer', 'evil, public, lead_mgmt, pg_catalog',
                $$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$, NULL),
            pg_temp.scenario('lm_priv_writer', NULL, $$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$, NULL),
    'writer: a statement of one''s own that uses an unqualified = differs under the hostile search_path');
SELECT pg_temp.lookalike_calls() AS calls_before \gset

-- Scenarios: what they write, and what they read back under the same path.
-- Values in the statements are compared with OPERATOR(pg_catalog.=), so
-- that only lead_mgmt's own SQL could reach a look-alike.
CREATE TEMP TABLE hostile_scenario (n serial, who text, label text, actions text, reading text);
INSERT INTO hostile_scenario (who, label, actions, reading) VALUES
    ('lm_priv_writer', 'insert a person under a lead company (B1)',
        $$INSERT INTO crm.person (id, company_id, name, owner) VALUES (100, 1, 'Nora', 'alice')$$, NULL),
    ('lm_priv_writer', 'set a visible status',
        $$UPDATE crm.person SET lead_status = 'contacting' WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_writer', 'set a hidden status (B5)',
        $$UPDATE crm.person SET lead_status = 'contacting' WHERE id OPERATOR(pg_catalog.=) 3$$, NULL),
    ('lm_priv_writer', 'set a deleted status (B6)',
        $$UPDATE crm.person SET lead_status = 'retired' WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_writer', 'set a status only the look-alike table knows',
        $$UPDATE crm.person SET lead_status = 'evil' WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_writer', 'empty a visible status',
        $$UPDATE crm.person SET lead_status = NULL WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_writer', 'a company leaves lead and comes back (B3, B2)',
        $$UPDATE crm.company SET category = 'customer' WHERE id OPERATOR(pg_catalog.=) 1;
          UPDATE crm.company SET category = 'mql' WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_writer', 'a company comes back with reentry = restore, source set',
        $$SET LOCAL lead_mgmt.reentry = restore;
          SET LOCAL lead_mgmt.source = 'hostile import';
          UPDATE crm.company SET category = 'customer' WHERE id OPERATOR(pg_catalog.=) 1;
          UPDATE crm.company SET category = 'lead' WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_writer', 'a customer becomes a lead (B2)',
        $$UPDATE crm.company SET category = 'lead' WHERE id OPERATOR(pg_catalog.=) 2$$, NULL),
    ('lm_priv_writer', 'an unknown category',
        $$UPDATE crm.company SET category = 'evil' WHERE id OPERATOR(pg_catalog.=) 2$$, NULL),
    ('lm_priv_writer', 'move persons between companies',
        $$UPDATE crm.person SET company_id = 3 WHERE id OPERATOR(pg_catalog.=) 5;
          UPDATE crm.person SET company_id = 2 WHERE id OPERATOR(pg_catalog.=) 4;
          UPDATE crm.person SET company_id = 1 WHERE id OPERATOR(pg_catalog.=) 6$$, NULL),
    ('lm_priv_writer', 'a company and its person in one statement (settled at its end)',
        $$WITH c AS (INSERT INTO crm.company (id, name, category) VALUES (10, 'Fjord', 'lead') RETURNING id)
          INSERT INTO crm.person (id, company_id, name) SELECT 110, c.id, 'Frida' FROM c$$, NULL),
    ('lm_priv_writer', 'delete a person and a company',
        $$DELETE FROM crm.person WHERE company_id OPERATOR(pg_catalog.=) 4;
          DELETE FROM crm.company WHERE id OPERATOR(pg_catalog.=) 4$$, NULL),
    ('lm_priv_writer', 'advance_category() and next_category()',
        $$SELECT lead_mgmt.advance_category(4, 'mql'), lead_mgmt.advance_category(2, 'lead')$$,
        'SELECT lead_mgmt.next_category(1), lead_mgmt.next_category(2), lead_mgmt.next_category(4)'),
    ('lm_priv_writer', 'save a selection and list its members',
        $$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('hostile', '{"not_lead_status": ["open"], "category": ["lead", "mql"]}')$$,
        $$SELECT * FROM lead_mgmt.selection_members('hostile')$$),
    ('lm_priv_writer', 'labels in nb',
        'SET LOCAL lead_mgmt.language = nb',
        $$SELECT lead_mgmt.status_name('open'), lead_mgmt.category_name('lead'), lead_mgmt.category_group_name('lost'),
                 lead_mgmt.status_description('open'), lead_mgmt.is_lead_enabled('customer'), lead_mgmt.current_language(),
                 lead_mgmt.no_owner_label()$$),
    ('lm_priv_writer', 'read lead_mgmt.person_leads', NULL, 'SELECT * FROM lead_mgmt.person_leads'),
    ('lm_priv_writer', 'read lead_mgmt.company_leads', NULL, 'SELECT * FROM lead_mgmt.company_leads'),
    ('lm_priv_writer', 'read the boards', NULL,
        $$SELECT 'columns', to_jsonb(b) FROM lead_mgmt.board_columns b
          UNION ALL SELECT 'cards', to_jsonb(b) FROM lead_mgmt.board b
          UNION ALL SELECT 'category columns', to_jsonb(b) FROM lead_mgmt.board_columns_by_category b
          UNION ALL SELECT 'category cards', to_jsonb(b) FROM lead_mgmt.board_by_category b
          UNION ALL SELECT 'owner columns', to_jsonb(b) FROM lead_mgmt.board_columns_by_owner b
          UNION ALL SELECT 'owner cards', to_jsonb(b) FROM lead_mgmt.board_by_owner b$$),
    ('lm_priv_writer', 'read the count views', NULL,
        $$SELECT 'status', to_jsonb(v) FROM lead_mgmt.status_counts v
          UNION ALL SELECT 'category', to_jsonb(v) FROM lead_mgmt.category_counts v
          UNION ALL SELECT 'group', to_jsonb(v) FROM lead_mgmt.category_group_counts v
          UNION ALL SELECT 'owner', to_jsonb(v) FROM lead_mgmt.owner_counts v
          UNION ALL SELECT 'suggestion', to_jsonb(v) FROM lead_mgmt.category_suggestions v$$),
    ('lm_priv_writer', 'read the analytics', NULL,
        $$SELECT 'time', to_jsonb(v) FROM lead_mgmt.time_in_status v
          UNION ALL SELECT 'aging', to_jsonb(v) FROM lead_mgmt.aging v
          UNION ALL SELECT 'funnel', to_jsonb(v) FROM lead_mgmt.funnel v
          UNION ALL SELECT 'new', to_jsonb(v) FROM lead_mgmt.new_leads v
          UNION ALL SELECT 'at', to_jsonb(v) FROM lead_mgmt.status_counts_at(pg_catalog.now()) v
          UNION ALL SELECT 'cohort', to_jsonb(v) FROM lead_mgmt.funnel(NULL, NULL, ARRAY['lead']) v$$),
    ('lm_priv_writer', 'read lead_mgmt.status_history', NULL,
        'SELECT person_id, company_id, from_status, to_status, event, category, visible, source FROM lead_mgmt.status_history'),
    ('lm_priv_writer', 'count_summary() and transaction_changes()',
        $$UPDATE crm.person SET lead_status = 'qualified' WHERE id OPERATOR(pg_catalog.=) 1$$,
        $$SELECT 'p', to_jsonb(x) FROM lead_mgmt.count_summary('p') x
          UNION ALL SELECT 'o', to_jsonb(x) FROM lead_mgmt.count_summary('o') x
          UNION ALL SELECT 'c', to_jsonb(x) FROM lead_mgmt.count_summary('c') x
          UNION ALL SELECT 't', to_jsonb(x) FROM lead_mgmt.transaction_changes() x$$),
    ('lm_priv_owner', 'a catalog flip makes opportunity lead-enabled (B2)',
        $$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key OPERATOR(pg_catalog.=) 'opportunity'$$, NULL),
    ('lm_priv_owner', 'a catalog flip hides mql (B3)',
        $$UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key OPERATOR(pg_catalog.=) 'mql'$$, NULL),
    ('lm_priv_owner', 'enable_lead_status outside potential_customer (C1)',
        $$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key OPERATOR(pg_catalog.=) 'customer'$$, NULL),
    ('lm_priv_owner', 'the default moves, and a new person gets it (S1, B1)',
        $$UPDATE lead_mgmt.lead_status SET is_default = true WHERE key OPERATOR(pg_catalog.=) 'contacting';
          INSERT INTO crm.person (id, company_id, name) VALUES (100, 3, 'Nils')$$, NULL),
    ('lm_priv_owner', 'a transition rule refuses a move (S2)',
        $$INSERT INTO lead_mgmt.status_transition VALUES ('open', 'qualified');
          UPDATE crm.person SET lead_status = 'contacting' WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_owner', 'hard-delete a status in use',
        $$UPDATE crm.person SET lead_status = 'spare' WHERE id OPERATOR(pg_catalog.=) 1;
          DELETE FROM lead_mgmt.lead_status WHERE key OPERATOR(pg_catalog.=) 'spare'$$, NULL),
    ('lm_priv_owner', 'hard-delete a shipped status',
        $$DELETE FROM lead_mgmt.lead_status WHERE key OPERATOR(pg_catalog.=) 'renurture'$$, NULL),
    ('lm_priv_owner', 'an automatic category rule fires (A2)',
        $$INSERT INTO lead_mgmt.category_rule VALUES ('qualified', 'opportunity', true, true);
          UPDATE crm.person SET lead_status = 'qualified' WHERE id OPERATOR(pg_catalog.=) 1$$, NULL),
    ('lm_priv_owner', 'merge_status()',
        $$SELECT lead_mgmt.merge_status('disqualified', 'renurture')$$, NULL),
    ('lm_priv_owner', 'a label of a new language, then labels in it',
        $$INSERT INTO lead_mgmt.lead_status_label VALUES ('contacting', 'de', 'Kontaktieren');
          SET LOCAL lead_mgmt.language = de$$,
        $$SELECT lead_mgmt.status_name('contacting'), lead_mgmt.status_name('open'), lead_mgmt.category_name('partner')$$),
    ('lm_priv_owner', 'an import with the rules and the history off (X1)',
        $$SET LOCAL lead_mgmt.enforce = off;
          SET LOCAL lead_mgmt.track_history = off;
          INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (100, 2, 'Nina', 'disqualified')$$, NULL),
    ('lm_priv_owner', 'purge_history(), rebuild_counts(), compact_counts()',
        $$SELECT lead_mgmt.purge_history(pg_catalog.now()), lead_mgmt.rebuild_counts(), lead_mgmt.compact_counts()$$, NULL),
    ('lm_priv_owner', 'verify_history() and verify_counts()', NULL,
        $$SELECT 'history', to_jsonb(v) FROM lead_mgmt.verify_history() v
          UNION ALL SELECT 'counts', to_jsonb(v) FROM lead_mgmt.verify_counts() v$$),
    ('lm_priv_owner', 'unmanage() and manage() again',
        $$SELECT lead_mgmt.unmanage();
          SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name', owner_column => 'owner');
          INSERT INTO crm.person (id, company_id, name) VALUES (100, 3, 'Nils')$$,
        'SELECT * FROM lead_mgmt.person_leads'),
    ('lm_priv_owner', 'start_history()',
        'SELECT lead_mgmt.start_history()', NULL);

SELECT is(pg_temp.scenario(x.who, x.path, x.actions, x.reading), pg_temp.scenario(x.who, NULL, x.actions, x.reading),
          format('%s: %s under search_path %s -> as with a clean search_path',
                 CASE x.who WHEN 'lm_priv_writer' THEN 'writer' ELSE 'owner' END, x.label, x.path))
  FROM (SELECT s.who, s.label, s.actions, s.reading, p.path
          FROM hostile_scenario s
         CROSS JOIN (VALUES (1, 'evil, public, lead_mgmt, pg_catalog'), (2, 'public, evil, pg_catalog, lead_mgmt')) p (k, path)
         ORDER BY s.n, p.k) x;

SELECT is(pg_temp.lookalike_calls(), :'calls_before'::bigint,
    'no look-alike was called by lead_mgmt under the hostile search paths');

SELECT * FROM finish();
ROLLBACK;
