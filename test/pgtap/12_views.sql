-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- SPEC §5 and §10: the views manage() creates over the managed tables —
-- person and company detail, the board (by status, category and owner),
-- the dashboard tiles and saved selections — on a fixture with visible,
-- hidden, retained, deleted and no statuses; labels in en and nb; row-level
-- security on the person table; plans that use the user's indexes; the
-- views follow renames and DDL, and go with unmanage().
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(101);

CREATE ROLE lm_tap_view_seller;
CREATE ROLE lm_tap_view_other;

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL,
    seller text);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name', owner_column => 'seller')$$,
    'fixture: manage with a label and an owner column');
CREATE INDEX person_lead_status ON crm.person (lead_status);
CREATE INDEX person_seller ON crm.person (seller);
CREATE INDEX company_category ON crm.company (category);

-- a status that is deleted later, while a person still has it
INSERT INTO lead_mgmt.lead_status (key, name, kind, rank) VALUES ('waiting', 'Waiting', 'working', 6);
INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('waiting', 'nb', 'Venter');

INSERT INTO crm.company (id, name, category) VALUES
    (1, 'Acme', 'lead'), (2, 'Bolt', 'mql'), (3, 'Cargo', 'lead'), (4, 'Dyno', NULL), (5, 'Echo', 'lead');
INSERT INTO crm.person (id, company_id, name, seller) VALUES
    (1, 1, 'Ada', 'alice'), (2, 1, 'Ben', 'bob'), (3, 1, 'Cy', NULL),
    (4, 2, 'Di', 'alice'), (5, 2, 'Ed', 'alice'),
    (6, 3, 'Fay', NULL), (7, 4, 'Gus', NULL), (8, NULL, 'Hal', NULL), (9, 5, 'Ivy', 'bob');
UPDATE crm.person SET lead_status = 'contacting' WHERE id IN (2, 6);
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3;
UPDATE crm.person SET lead_status = 'waiting' WHERE id = 5;
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'waiting';
-- hidden: Cargo becomes a customer (Fay keeps contacting), Echo an
-- opportunity (Ivy keeps open); Dyno has no category (Gus: no status)
UPDATE crm.company SET category = 'customer' WHERE id = 3;
UPDATE crm.company SET category = 'opportunity' WHERE id = 5;
-- time in status: history rows of earlier days, as an import would write them
INSERT INTO lead_mgmt.status_history (company_id, person_id, from_status, to_status, event, category, changed_at, changed_by, visible)
VALUES (1, 2, 'open', 'contacting', 'set', 'lead', now() - interval '40 days', current_user, true),
       (1, 3, 'contacting', 'qualified', 'set', 'lead', now() - interval '10 days', current_user, true);

------------------------------------------------------------------------------
-- person_leads
------------------------------------------------------------------------------

SELECT is((SELECT count(*)::int FROM lead_mgmt.person_leads), 9, 'person_leads: one row per person');
SELECT is((SELECT string_agg(format('%s:%s/%s:%s', person_id, coalesce(lead_status, '-'),
                                    coalesce(retained_status, '-'), visible), ' ' ORDER BY person_id)
             FROM lead_mgmt.person_leads),
    '1:open/open:t 2:contacting/contacting:t 3:qualified/qualified:t 4:open/open:t '
    '5:waiting/waiting:t 6:-/contacting:f 7:-/-:f 8:-/-:f 9:-/open:f',
    'person_leads: shown, retained and visible per person');
SELECT results_eq(
    $$SELECT company_id, label, owner, category, category_name, category_group::text, editable,
             status_name, status_rank, status_kind::text, status_description, status_deleted
        FROM lead_mgmt.person_leads WHERE person_id IN (2, 5, 6, 8) ORDER BY person_id$$,
    $$VALUES (1, 'Ben', 'bob', 'lead', 'Lead', 'potential_customer', true,
              'Contacting', 2, 'working', 'Sales is actively trying to reach the lead', false),
             (2, 'Ed', 'alice', 'mql', 'Marketing qualified lead (MQL)', 'potential_customer', true,
              'Waiting', 6, 'working', NULL, true),
             (3, 'Fay', NULL, 'customer', 'Customer', 'customer', false,
              NULL, NULL, NULL, NULL, NULL),
             (NULL, 'Hal', NULL, NULL, NULL, NULL, false, NULL, NULL, NULL, NULL, NULL)$$,
    'person_leads: company, label, owner, category and the shown status''s labels, rank and kind');
SELECT is((SELECT days_in_status FROM lead_mgmt.person_leads WHERE person_id = 2), 40,
    'person_leads: days_in_status from the last history row');
SELECT is((SELECT status_since FROM lead_mgmt.person_leads WHERE person_id = 3), now() - interval '10 days',
    'person_leads: status_since is when the status was set');
SELECT is((SELECT days_in_status FROM lead_mgmt.person_leads WHERE person_id = 1), 0,
    'person_leads: a status set today is 0 days old');
SELECT ok((SELECT status_since IS NULL AND days_in_status IS NULL FROM lead_mgmt.person_leads WHERE person_id = 6),
    'person_leads: a hidden status has no status_since');

------------------------------------------------------------------------------
-- company_leads
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT company_id, category, category_group::text, lead_status_enabled, persons, leads, retained, persons_by_status
        FROM lead_mgmt.company_leads ORDER BY company_id$$,
    $$VALUES (1, 'lead', 'potential_customer', true, 3::bigint, 3::bigint, 0::bigint,
              '{"open": 1, "contacting": 1, "qualified": 1}'::jsonb),
             (2, 'mql', 'potential_customer', true, 2, 2, 0, '{"open": 1, "waiting": 1}'),
             (3, 'customer', 'customer', false, 1, 0, 1, '{}'),
             (4, NULL, NULL, false, 1, 0, 0, '{}'),
             (5, 'opportunity', 'potential_customer', false, 1, 0, 1, '{}')$$,
    'company_leads: persons, shown leads, retained and persons per shown status');

------------------------------------------------------------------------------
-- Dashboard tiles
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT lead_status, status_name, rank, kind::text, visible, retained, total FROM lead_mgmt.status_counts$$,
    $$VALUES ('open', 'Open', 1, 'open', 2::bigint, 1::bigint, 3::bigint),
             ('contacting', 'Contacting', 2, 'working', 1, 1, 2),
             ('disqualified', 'Disqualified', 3, 'disqualified', 0, 0, 0),
             ('renurture', 'Re-nurture', 4, 'nurture', 0, 0, 0),
             ('qualified', 'Qualified', 5, 'qualified', 1, 0, 1),
             ('waiting', 'Waiting', 6, 'working', 1, 0, 1)$$,
    'status_counts: visible and retained apart, every status, a deleted one while persons have it');
SELECT results_eq(
    $$SELECT category, companies, persons, leads, retained FROM lead_mgmt.category_counts$$,
    $$VALUES ('lead', 1::bigint, 3::bigint, 3::bigint, 0::bigint), ('mql', 1, 2, 2, 0),
             ('opportunity', 1, 1, 0, 1), ('lost_opportunity', 0, 0, 0, 0),
             ('customer', 1, 1, 0, 1), ('partner', 0, 0, 0, 0)$$,
    'category_counts: companies, persons, shown leads, retained per category');
SELECT results_eq(
    $$SELECT category_group::text, category_group_name, categories, companies, persons, leads, retained
        FROM lead_mgmt.category_group_counts$$,
    $$VALUES ('unknown', 'Unknown', 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint),
             ('customer', 'Customer', 1, 1, 1, 0, 1),
             ('potential_customer', 'Potential customer', 4, 3, 6, 5, 1),
             ('partner', 'Partner', 1, 0, 0, 0, 0),
             ('lost', 'Lost', 0, 0, 0, 0, 0),
             ('other', 'Other', 0, 0, 0, 0, 0)$$,
    'category_group_counts: every group, in enum order');
SELECT results_eq(
    $$SELECT owner, owner_name, lead_status, status_name, rank, leads FROM lead_mgmt.owner_counts$$,
    $$VALUES ('alice', 'alice', 'open', 'Open', 1, 2::bigint),
             ('alice', 'alice', 'waiting', 'Waiting', 6, 1),
             ('bob', 'bob', 'contacting', 'Contacting', 2, 1),
             (NULL, 'No owner', 'qualified', 'Qualified', 5, 1)$$,
    'owner_counts: shown leads per owner and status, no owner last');

------------------------------------------------------------------------------
-- The board
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT lead_status, status_name, rank, cards, position FROM lead_mgmt.board_columns$$,
    $$VALUES ('open', 'Open', 1, 2::bigint, 1::bigint), ('contacting', 'Contacting', 2, 1, 2),
             ('disqualified', 'Disqualified', 3, 0, 3), ('renurture', 'Re-nurture', 4, 0, 4),
             ('qualified', 'Qualified', 5, 1, 5), ('waiting', 'Waiting', 6, 1, 6)$$,
    'board_columns: every status in rank order, empty ones included, a deleted one while it has cards');
SELECT is((SELECT sum(cards)::int FROM lead_mgmt.board_columns), (SELECT count(*)::int FROM lead_mgmt.board),
    'board: the column counts are the cards');
SELECT results_eq(
    $$SELECT c.lead_status, c.cards FROM lead_mgmt.board_columns c ORDER BY c.position$$,
    $$SELECT c.lead_status, count(b.person_id) FROM lead_mgmt.board_columns c
        LEFT JOIN lead_mgmt.board b ON b.lead_status = c.lead_status
       GROUP BY c.lead_status, c.position ORDER BY c.position$$,
    'board: every column''s count is its number of cards');
SELECT results_eq(
    $$SELECT lead_status, position, person_id, company_id, label, owner, days_in_status
        FROM lead_mgmt.board ORDER BY lead_status, position$$,
    $$VALUES ('contacting', 1::bigint, 2, 1, 'Ben', 'bob', 40),
             ('open', 1, 1, 1, 'Ada', 'alice', 0), ('open', 2, 4, 2, 'Di', 'alice', 0),
             ('qualified', 1, 3, 1, 'Cy', NULL, 10),
             ('waiting', 1, 5, 2, 'Ed', 'alice', 0)$$,
    'board: cards of shown statuses only, longest in status first');
SELECT results_eq(
    $$SELECT category, lead_status, cards FROM lead_mgmt.board_columns_by_category WHERE cards > 0$$,
    $$VALUES ('lead', 'open', 1::bigint), ('lead', 'contacting', 1), ('lead', 'qualified', 1),
             ('mql', 'open', 1), ('mql', 'waiting', 1)$$,
    'board_columns_by_category: a lane per lead-enabled category');
SELECT is((SELECT count(*)::int FROM lead_mgmt.board_columns_by_category), 11,
    'board_columns_by_category: every live status in every lead-enabled category, and the deleted one where it has cards');
SELECT is((SELECT sum(cards)::int FROM lead_mgmt.board_columns_by_category),
          (SELECT count(*)::int FROM lead_mgmt.board_by_category),
    'board by category: the lane counts are the cards');
SELECT results_eq(
    $$SELECT owner_name, lead_status, cards FROM lead_mgmt.board_columns_by_owner WHERE cards > 0$$,
    $$VALUES ('alice', 'open', 2::bigint), ('alice', 'waiting', 1), ('bob', 'contacting', 1),
             ('No owner', 'qualified', 1)$$,
    'board_columns_by_owner: a lane per owner, and one for no owner');
SELECT is((SELECT count(*)::int FROM lead_mgmt.board_columns_by_owner WHERE owner IS NULL), 5,
    'board_columns_by_owner: the no-owner lane has every live status');
SELECT results_eq(
    $$SELECT lead_status, position, person_id FROM lead_mgmt.board_by_owner WHERE owner = 'alice'
       ORDER BY lead_status, position$$,
    $$VALUES ('open', 1::bigint, 1), ('open', 2, 4), ('waiting', 1, 5)$$,
    'board_by_owner: "my leads"');
SELECT is((SELECT sum(cards)::int FROM lead_mgmt.board_columns_by_owner),
          (SELECT count(*)::int FROM lead_mgmt.board_by_owner),
    'board by owner: the lane counts are the cards');

------------------------------------------------------------------------------
-- A hidden status that shows again keeps its status_since (reentry restore)
------------------------------------------------------------------------------

SELECT status_since AS since_before FROM lead_mgmt.person_leads WHERE person_id = 3 \gset
SET LOCAL lead_mgmt.reentry = restore;
UPDATE crm.company SET category = 'customer' WHERE id = 1;
SELECT is((SELECT count(*)::int FROM lead_mgmt.board WHERE company_id = 1), 0,
    'board: a company that stops being a lead takes its cards off');
UPDATE crm.company SET category = 'lead' WHERE id = 1;
RESET lead_mgmt.reentry;
SELECT is((SELECT status_since FROM lead_mgmt.person_leads WHERE person_id = 3), :'since_before'::timestamptz,
    'person_leads: hiding and showing again does not restart the time in status');

------------------------------------------------------------------------------
-- Labels follow lead_mgmt.language
------------------------------------------------------------------------------

SET LOCAL lead_mgmt.language = 'nb';
SELECT results_eq(
    $$SELECT status_name, category_name, status_description FROM lead_mgmt.person_leads WHERE person_id IN (1, 4)
       ORDER BY person_id$$,
    $$VALUES ('Åpen', 'Lead', 'Ingen salgskontakt er gjort ennå.'),
             ('Åpen', 'Markedsføringskvalifisert lead (MQL)', 'Ingen salgskontakt er gjort ennå.')$$,
    'nb: person_leads labels');
SELECT is((SELECT string_agg(status_name, ',' ORDER BY position) FROM lead_mgmt.board_columns),
    'Åpen,Kontakter,Diskvalifisert,Varmes opp igjen,Kvalifisert,Venter', 'nb: board column names');
SELECT is((SELECT category_group_name FROM lead_mgmt.category_group_counts WHERE category_group = 'potential_customer'),
    'Potensiell kunde', 'nb: category group names');
SELECT is((SELECT owner_name FROM lead_mgmt.owner_counts WHERE owner IS NULL), 'Ingen eier',
    'nb: the no-owner row');
SELECT is((SELECT category_name FROM lead_mgmt.category_counts WHERE category = 'customer'), 'Kunde',
    'nb: category_counts names');
-- a language an administrator adds: falls back to English where no label
INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'sv', 'Öppen');
SET LOCAL lead_mgmt.language = 'sv';
SELECT is((SELECT string_agg(status_name, ',' ORDER BY position) FROM lead_mgmt.board_columns WHERE rank <= 2),
    'Öppen,Contacting', 'a language added by inserting labels; English where none');
SELECT throws_ok($$SET LOCAL lead_mgmt.language = 'xx'$$, '22023', NULL,
    'an unknown language is an error');
RESET lead_mgmt.language;
SELECT is((SELECT status_name FROM lead_mgmt.person_leads WHERE person_id = 1), 'Open', 'en again');

------------------------------------------------------------------------------
-- Plans: filters reach the user's indexes
------------------------------------------------------------------------------

CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    result text := '';
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        result := result || line || E'\n';
    END LOOP;
    RETURN result;
END
$$;
SELECT matches(pg_temp.plan($$SELECT * FROM lead_mgmt.person_leads WHERE lead_status = 'open'$$),
    'person_lead_status', 'plan: a filter on lead_status uses the person table''s index');
SELECT doesnt_match(pg_temp.plan($$SELECT * FROM lead_mgmt.person_leads WHERE lead_status = 'open'$$),
    'Seq Scan on person', 'plan: and scans no person table in full');
SELECT matches(pg_temp.plan($$SELECT * FROM lead_mgmt.person_leads WHERE category = 'lead'$$),
    'company_category', 'plan: a filter on category uses the company table''s index');
SELECT doesnt_match(pg_temp.plan($$SELECT * FROM lead_mgmt.person_leads WHERE category = 'lead'$$),
    'Seq Scan on person', 'plan: and reaches the persons by their company index');
SELECT matches(pg_temp.plan($$SELECT * FROM lead_mgmt.person_leads WHERE owner = 'alice'$$),
    'person_seller', 'plan: a filter on owner uses the person table''s index');
SELECT doesnt_match(pg_temp.plan($$SELECT * FROM lead_mgmt.board WHERE lead_status = 'open'$$),
    'Seq Scan on person', 'plan: one board column reads its persons by index');

------------------------------------------------------------------------------
-- Comments: every view and column (and the columns manage() added)
------------------------------------------------------------------------------

SELECT is((SELECT array_agg(v ORDER BY v) FROM unnest(lead_mgmt.generated_views()) v
            WHERE obj_description(format('lead_mgmt.%I', v)::regclass, 'pg_class') IS NULL),
    NULL, 'every view has a comment');
SELECT is((SELECT array_agg(format('%s.%s', c.relname, a.attname) ORDER BY 1)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'lead_mgmt' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relname NOT LIKE 'status\_history%'
              AND col_description(c.oid, a.attnum) IS NULL),
    NULL, 'every column of every view and catalog has a comment');
SELECT isnt(col_description('crm.person'::regclass, (SELECT attnum FROM pg_attribute
                             WHERE attrelid = 'crm.person'::regclass AND attname = 'lead_status')),
    NULL, 'the lead_status column manage() added has a comment');
SELECT isnt(col_description('crm.company'::regclass, (SELECT attnum FROM pg_attribute
                             WHERE attrelid = 'crm.company'::regclass AND attname = 'category')),
    NULL, 'and the category column');
SELECT is((SELECT array_agg(v ORDER BY v) FROM unnest(lead_mgmt.generated_views()) v
            WHERE NOT coalesce((SELECT 'security_invoker=true' = ANY (reloptions) FROM pg_class
                                 WHERE oid = format('lead_mgmt.%I', v)::regclass), false)),
    NULL, 'every view is security_invoker');

------------------------------------------------------------------------------
-- Saved selections
------------------------------------------------------------------------------

CREATE FUNCTION pg_temp.members(name text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(coalesce(person_id::text, 'c' || company_id), ',' ORDER BY company_id, person_id), '')
      FROM lead_mgmt.selection_members(name)
$$;
INSERT INTO lead_mgmt.selection (name, entity, criteria) VALUES
    ('open', 'person', '{"lead_status": ["open"]}'),
    ('not open', 'person', '{"not_lead_status": ["open"]}'),
    ('working', 'person', '{"lead_status": ["contacting", "waiting"]}'),
    ('mql', 'person', '{"category": ["mql"]}'),
    ('not lead', 'person', '{"not_category": ["lead"]}'),
    ('potential', 'person', '{"category_group": ["potential_customer"]}'),
    ('not potential', 'person', '{"not_category_group": ["potential_customer"]}'),
    ('alice', 'person', '{"owner": ["alice"]}'),
    ('not alice', 'person', '{"not_owner": ["alice"]}'),
    ('old', 'person', '{"days_in_status_at_least": 30}'),
    ('alice open', 'person', '{"owner": ["alice"], "lead_status": ["open"], "category": ["lead"]}'),
    ('lead companies', 'company', '{"category": ["lead", "mql"]}'),
    ('not potential companies', 'company', '{"not_category_group": ["potential_customer"]}'),
    ('everyone', 'person', '{}');
SELECT is(pg_temp.members('open'), '1,4', 'selection: lead status is one of');
SELECT is(pg_temp.members('not open'), '2,3,5,6,7,9,8', 'selection: lead status is not one of (persons without a shown status included)');
SELECT is(pg_temp.members('working'), '2,5', 'selection: a deleted status still selects');
SELECT is(pg_temp.members('mql'), '4,5', 'selection: category is one of');
SELECT is(pg_temp.members('not lead'), '4,5,6,7,9,8', 'selection: category is not one of');
SELECT is(pg_temp.members('potential'), '1,2,3,4,5,9', 'selection: category group is one of');
SELECT is(pg_temp.members('not potential'), '6,7,8', 'selection: category group is not one of');
SELECT is(pg_temp.members('alice'), '1,4,5', 'selection: owner is one of');
SELECT is(pg_temp.members('not alice'), '2,3,6,7,9,8', 'selection: owner is not one of');
SELECT is(pg_temp.members('old'), '2', 'selection: days in status at least');
SELECT is(pg_temp.members('alice open'), '1', 'selection: criteria combine with AND');
SELECT is(pg_temp.members('lead companies'), 'c1,c2', 'selection: companies by category');
SELECT is(pg_temp.members('not potential companies'), 'c3,c4', 'selection: companies by category group, negated');
SELECT is(pg_temp.members('everyone'), '1,2,3,4,5,6,7,9,8', 'selection: no criteria, every person');
-- re-evaluated at every call
UPDATE crm.person SET lead_status = 'open' WHERE id = 2;
SELECT is(pg_temp.members('open'), '1,2,4', 'selection: evaluated when called, not when saved');
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2;

SELECT count(*) AS selections FROM lead_mgmt.selection \gset
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"stage": ["open"]}')$$,
    '22023', 'unknown criterion "stage" in selection "x"', 'selection error: unknown criterion');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"lead_status": "open"}')$$,
    '22023', NULL, 'selection error: a string where an array belongs');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"lead_status": []}')$$,
    '22023', NULL, 'selection error: an empty array');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"owner": [7]}')$$,
    '22023', NULL, 'selection error: a number where a key belongs');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"lead_status": ["opne"]}')$$,
    '22023', 'lead status "opne" in criterion lead_status of selection "x" does not exist',
    'selection error: an unknown status, named');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"not_category": ["leed"]}')$$,
    '22023', 'category "leed" in criterion not_category of selection "x" does not exist',
    'selection error: an unknown category, named');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"category_group": ["prospect"]}')$$,
    '22023', 'category group "prospect" in criterion category_group of selection "x" does not exist',
    'selection error: an unknown category group, named');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"days_in_status_at_least": "30"}')$$,
    '22023', NULL, 'selection error: days as a string');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '{"days_in_status_at_least": -1}')$$,
    '22023', NULL, 'selection error: negative days');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, entity, criteria) VALUES ('x', 'company', '{"lead_status": ["open"]}')$$,
    '22023', 'unknown criterion "lead_status" in selection "x"', 'selection error: a person criterion on companies');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('x', '["open"]')$$,
    '22023', NULL, 'selection error: criteria that are not an object');
SELECT throws_ok($$INSERT INTO lead_mgmt.selection (name, entity) VALUES ('x', 'deal')$$,
    '23514', NULL, 'selection error: an unknown entity');
SELECT throws_ok($$UPDATE lead_mgmt.selection SET criteria = '{"lead_status": ["nope"]}' WHERE name = 'open'$$,
    '22023', NULL, 'selection error: also when changed');
SELECT is((SELECT count(*) FROM lead_mgmt.selection), :'selections'::bigint, 'the refused selections changed nothing');
SELECT is(pg_temp.members('open'), '1,4', 'and the changed one kept its criteria');
SELECT throws_ok($$SELECT * FROM lead_mgmt.selection_members('nope')$$, '42704', 'selection "nope" does not exist',
    'selection_members(): an unknown selection');

------------------------------------------------------------------------------
-- Row-level security on the person table
------------------------------------------------------------------------------

GRANT USAGE ON SCHEMA crm TO lm_tap_view_seller, lm_tap_view_other;
GRANT SELECT ON crm.company, crm.person TO lm_tap_view_seller;
ALTER TABLE crm.person ENABLE ROW LEVEL SECURITY;
CREATE POLICY sellers ON crm.person FOR SELECT TO lm_tap_view_seller USING (seller = 'alice');
INSERT INTO lead_mgmt.selection (name, criteria, created_by) VALUES ('mine', '{"owner": ["alice"]}', 'lm_tap_view_seller');
SET LOCAL ROLE lm_tap_view_seller;
SELECT is((SELECT string_agg(person_id::text, ',' ORDER BY person_id) FROM lead_mgmt.person_leads), '1,4,5',
    'RLS: person_leads lists the persons the reader may see');
SELECT results_eq(
    $$SELECT lead_status, visible, retained FROM lead_mgmt.status_counts WHERE total > 0$$,
    $$VALUES ('open', 2::bigint, 0::bigint), ('waiting', 1, 0)$$,
    'RLS: status_counts counts those rows');
SELECT is((SELECT sum(cards)::int FROM lead_mgmt.board_columns), 3, 'RLS: board column counts');
SELECT is((SELECT count(*)::int FROM lead_mgmt.board), 3, 'RLS: board cards');
SELECT is((SELECT persons FROM lead_mgmt.company_leads WHERE company_id = 1), 1::bigint, 'RLS: company_leads persons');
SELECT is((SELECT persons FROM lead_mgmt.category_counts WHERE category = 'lead'), 1::bigint, 'RLS: category_counts');
SELECT is((SELECT leads FROM lead_mgmt.category_group_counts WHERE category_group = 'potential_customer'), 3::bigint,
    'RLS: category_group_counts');
SELECT is((SELECT count(*)::int FROM lead_mgmt.owner_counts WHERE owner IS DISTINCT FROM 'alice'), 0,
    'RLS: owner_counts');
SELECT is((SELECT count(DISTINCT person_id)::int FROM lead_mgmt.status_history), 3,
    'RLS: the reader sees the history of their persons only');
SELECT is((SELECT days_in_status FROM lead_mgmt.person_leads WHERE person_id = 1), 0,
    'RLS: and so their time in status');
SELECT is(pg_temp.members('everyone'), '1,4,5', 'RLS: selections list visible persons only');
DELETE FROM lead_mgmt.selection WHERE name = 'open';
SELECT is((SELECT count(*)::int FROM lead_mgmt.selection WHERE name = 'open'), 1,
    'a selection is deleted only by its author');
SELECT lives_ok($$UPDATE lead_mgmt.selection SET description = 'my leads' WHERE name = 'mine'$$,
    'the author may change their selection');
RESET ROLE;
SET LOCAL ROLE lm_tap_view_other;
SELECT throws_ok($$SELECT count(*) FROM lead_mgmt.person_leads$$, '42501', NULL,
    'a role without SELECT on the person table reads no view of it');
RESET ROLE;
ALTER TABLE crm.person DISABLE ROW LEVEL SECURITY;
DROP POLICY sellers ON crm.person;

------------------------------------------------------------------------------
-- DDL: renames are followed; dropping or retyping columns works
------------------------------------------------------------------------------

SELECT results_eq($$SELECT lead_status, cards FROM lead_mgmt.board_columns$$,
                  $$SELECT lead_status, cards FROM lead_mgmt.board_columns$$, 'fixture: board before DDL');
CREATE TEMP TABLE board_before AS SELECT lead_status, cards FROM lead_mgmt.board_columns;
ALTER TABLE crm.person RENAME TO contact;
ALTER TABLE crm.contact RENAME COLUMN name TO full_name;
SELECT is((SELECT label FROM lead_mgmt.person_leads WHERE person_id = 1), 'Ada',
    'a renamed table and label column are followed');
ALTER TABLE crm.contact RENAME TO person;
ALTER TABLE crm.person RENAME COLUMN full_name TO name;
SELECT lives_ok($$ALTER TABLE crm.person ALTER COLUMN id TYPE bigint$$, 'the person key can be retyped');
SELECT is((SELECT pg_typeof(person_id)::text FROM lead_mgmt.person_leads LIMIT 1), 'bigint',
    'and the views follow the new type');
SELECT set_eq($$SELECT lead_status, cards FROM lead_mgmt.board_columns$$, $$SELECT * FROM board_before$$,
    'the views are the same after the DDL');
SELECT lives_ok($$ALTER TABLE crm.person DROP COLUMN seller$$, 'the owner column can be dropped');
SELECT is((SELECT count(*)::int FROM lead_mgmt.person_leads WHERE owner IS NOT NULL), 0,
    'the views read no owner then');
SELECT lives_ok($$SELECT lead_mgmt.unmanage()$$, 'unmanage()');
SELECT is((SELECT array_agg(v ORDER BY v) FROM unnest(lead_mgmt.generated_views()) v
            WHERE to_regclass(format('lead_mgmt.%I', v)) IS NOT NULL), NULL,
    'unmanage() drops the views');
SELECT is(to_regprocedure('lead_mgmt.selection_members(text)'), NULL, 'and selection_members()');
SELECT lives_ok($$DROP TABLE crm.person$$, 'a table no longer managed drops as usual');

SELECT * FROM finish();
ROLLBACK;
