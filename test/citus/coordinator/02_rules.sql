-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- The rules on distributed tables, written through the coordinator: every
-- statement below reaches several shards on both workers.
SET client_min_messages = warning;
SELECT plan(50);

-- companies 101..140: 101..120 lead, 121..140 customer
INSERT INTO crm.company (id, name, category)
SELECT i, 'company ' || i, CASE WHEN i <= 120 THEN 'lead' ELSE 'customer' END
  FROM generate_series(101, 140) i;
SELECT is((SELECT count(DISTINCT get_shard_id_for_distribution_column('crm.company', id))::int
             FROM crm.company WHERE id BETWEEN 101 AND 140), 4, 'the companies lie in every shard');

-- B1: a multi-row INSERT spanning every shard
INSERT INTO crm.person (company_id, id, name, owner)
SELECT c, p, 'p' || c || '/' || p, 'owner' || (p % 2)
  FROM generate_series(101, 140) c, generate_series(1, 3) p;
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 101 AND 120 AND lead_status = 'open'), 60,
          'B1: every person of a lead company got the default status');
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 121 AND 140 AND lead_status IS NULL), 60,
          'B1: persons of customers have none');

-- INSERT ... SELECT between distributed tables, and ON CONFLICT
INSERT INTO crm.person (company_id, id, name)
SELECT company_id, id + 100, name FROM crm.person WHERE company_id BETWEEN 101 AND 104 AND id = 1;
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 101 AND 104 AND id = 101 AND lead_status = 'open'), 4,
          'B1 through INSERT ... SELECT');
INSERT INTO crm.person (company_id, id, name) VALUES (105, 1, 'again'), (105, 50, 'new')
    ON CONFLICT (company_id, id) DO UPDATE SET name = excluded.name;
SELECT is(value_of($$SELECT string_agg(lead_status || ':' || name, ',' ORDER BY id) FROM crm.person WHERE company_id = 105 AND id IN (1, 50)$$),
          'open:again,open:new', 'B1 through INSERT ... ON CONFLICT, and the update keeps the status');

-- B5: refused where hidden, with nothing changed
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE company_id = 121 AND id = 1$$,
                 '23L01', NULL, 'B5: a status set where it is hidden is refused');
SELECT is(value_of($$SELECT string_agg(coalesce(lead_status, '(none)'), ',') FROM crm.person WHERE company_id = 121 AND id = 1$$),
          '(none)', 'B5: and nothing changed');
UPDATE crm.person SET name = 'renamed' WHERE company_id = 121 AND id = 1;
SELECT is(value_of($$SELECT name FROM crm.person WHERE company_id = 121 AND id = 1$$), 'renamed',
          'B5: other columns stay updatable');

-- an UPDATE spanning every shard (B4: per person)
UPDATE crm.person SET lead_status = 'contacting' WHERE company_id BETWEEN 101 AND 120 AND id = 2;
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 101 AND 120 AND lead_status = 'contacting'), 20,
          'a multi-shard UPDATE sets the status of the persons it names');
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 101 AND 120 AND id = 1 AND lead_status = 'open'), 20,
          'B4: the other persons of the same companies keep theirs');

-- B2 and B3 by a company's category change
UPDATE crm.company SET category = 'customer' WHERE id IN (108, 109, 110);
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id IN (108, 109, 110) AND lead_status IS NOT NULL), 9,
          'B3: leaving a lead category keeps the statuses');
SELECT is((SELECT count(*)::int FROM crm.company c JOIN lead_mgmt.category k ON k.key = c.category
            WHERE c.id IN (108, 109, 110) AND k.enable_lead_status), 0,
          'B3: and hides them');
UPDATE crm.company SET category = 'lead' WHERE id IN (121, 122);
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id IN (121, 122) AND lead_status = 'open'), 6,
          'B2: entering a lead category gives the default status');

-- B2 and B3 by an administrator's catalog change: every shard follows
SELECT now() AS before_flip \gset
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'lead';
SELECT is((SELECT count(*)::int FROM lead_mgmt.status_history
            WHERE event = 'hidden' AND category = 'lead' AND changed_at > :'before_flip'),
          (SELECT count(*)::int FROM crm.person p JOIN crm.company c ON c.id = p.company_id
            WHERE c.category = 'lead' AND p.lead_status IS NOT NULL),
          'B3 by catalog: every status of a lead company on every shard is hidden, and recorded so');
SELECT is(value_of($$SELECT count(*) FROM crm.person WHERE company_id = 101 AND lead_status IS NOT NULL$$), '4',
          'B3 by catalog: the values are kept');
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'lead';
SELECT is((SELECT count(*)::int FROM lead_mgmt.status_history
            WHERE event IN ('shown', 'entered') AND category = 'lead' AND changed_at > :'before_flip'),
          (SELECT count(*)::int FROM crm.person p JOIN crm.company c ON c.id = p.company_id
            WHERE c.category = 'lead' AND p.lead_status IS NOT NULL),
          'B2 by catalog: they show again on every shard');
SELECT is((SELECT count(*)::int FROM crm.person p JOIN crm.company c ON c.id = p.company_id
            WHERE c.category = 'lead' AND p.lead_status IS DISTINCT FROM 'open'), 0,
          'B2 by catalog: with lead_mgmt.reentry = reset, all of them are open again');
SELECT is(value_of($$SELECT count(*) FROM lead_mgmt.status_history WHERE event = 'hidden' AND company_id = 101$$), '4',
          'H1: the hides were recorded on the shard of the company');

-- B6: a deleted status cannot be newly set
INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('citus_old', 'Old', 90);
UPDATE crm.person SET lead_status = 'citus_old' WHERE company_id = 106 AND id = 1;
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'citus_old';
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'citus_old' WHERE company_id = 107 AND id = 1$$,
                 '23L03', NULL, 'B6: a deleted status cannot be newly set on any shard');
SELECT is(value_of($$SELECT lead_status FROM crm.person WHERE company_id = 106 AND id = 1$$), 'citus_old',
          'B6: a person who holds it keeps it');

-- C1 and S1 hold on the reference tables
SELECT throws_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'customer'$$,
                 '23L05', NULL, 'C1: lead status outside potential_customer is refused');
SELECT is((SELECT array_agg(result) FROM run_command_on_all_nodes(
               $$SELECT enable_lead_status FROM lead_mgmt.category WHERE key = 'customer'$$)),
          ARRAY['f', 'f', 'f'], 'C1: and no node changed');
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'contacting';
SELECT is((SELECT array_agg(result) FROM run_command_on_all_nodes(
               $$SELECT string_agg(key, ',') FROM lead_mgmt.lead_status WHERE is_default$$)),
          ARRAY['contacting', 'contacting', 'contacting'], 'S1: the default flag moved on every node');
INSERT INTO crm.person (company_id, id, name) VALUES (111, 9, 'with the new default');
SELECT is(value_of($$SELECT lead_status FROM crm.person WHERE company_id = 111 AND id = 9$$), 'contacting',
          'B1 on a shard takes the new default at once');
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open';

-- S2: transition rules
UPDATE crm.person SET lead_status = 'contacting' WHERE company_id BETWEEN 101 AND 104 AND id = 2;
INSERT INTO lead_mgmt.status_transition VALUES ('contacting', 'disqualified');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'renurture' WHERE company_id = 103 AND id = 2$$,
                 '23L04', NULL, 'S2: a move the rules do not list is refused on a shard');
SELECT is(value_of($$SELECT lead_status FROM crm.person WHERE company_id = 103 AND id = 2$$), 'contacting',
          'S2: and the status stayed');
DELETE FROM lead_mgmt.status_transition;

-- A1, A2
SELECT is(lead_mgmt.advance_category(112, 'mql'), true, 'A1: a lead advances');
SELECT is(lead_mgmt.advance_category(123, 'lead'), false, 'A1: a customer is never made a lead');
INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('qualified', 'opportunity', true);
UPDATE crm.person SET lead_status = 'qualified' WHERE company_id = 113 AND id = 1;
SELECT is(value_of($$SELECT category FROM crm.company WHERE id = 113$$), 'opportunity',
          'A2: an automatic rule moves the company, from the shard');
DELETE FROM lead_mgmt.category_rule;

-- merge_status: every holder on every shard
SELECT is(lead_mgmt.merge_status('citus_old', 'disqualified'), 1::bigint, 'merge_status moves the holders');
SELECT is((SELECT count(*)::int FROM crm.person WHERE lead_status = 'citus_old'), 0, 'none is left');

-- COPY into every shard
COPY crm.person (company_id, id, name) FROM STDIN;
101	60	copied
102	60	copied
103	60	copied
104	60	copied
121	60	copied
122	60	copied
123	60	copied
124	60	copied
\.
SELECT is((SELECT string_agg(company_id || ':' || coalesce(lead_status, '-'), ',' ORDER BY company_id)
             FROM crm.person WHERE id = 60),
          '101:open,102:open,103:open,104:open,121:open,122:open,123:-,124:-',
          'B1 through COPY, on every shard');

-- rebuild_counts() locks the tables on every node (LOCK TABLE) and recounts
SELECT cmp_ok(lead_mgmt.rebuild_counts(), '>', 0::bigint, 'rebuild_counts() recounts the distributed pair');
SELECT is((SELECT count(*)::int FROM lead_mgmt.verify_counts()), 0, 'and the summary equals a recount');

-- X1 and the settings, given with SET LOCAL, reach the shards' sessions
BEGIN;
SET LOCAL lead_mgmt.enforce = off;
INSERT INTO crm.person (company_id, id, name) SELECT c, 70, 'imported' FROM generate_series(114, 117) c;
COMMIT;
SELECT is((SELECT count(*)::int FROM crm.person WHERE id = 70 AND company_id BETWEEN 114 AND 117 AND lead_status IS NULL), 4,
          'X1: with the rules off, imported persons keep what they were given, on every shard');
BEGIN;
SET LOCAL lead_mgmt.source = 'citus import';
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 70 AND company_id BETWEEN 114 AND 117;
COMMIT;
SELECT is((SELECT count(*)::int FROM lead_mgmt.status_history WHERE source = 'citus import' AND person_id = 70), 4,
          'H1: lead_mgmt.source reaches the history on every shard');

-- TRUNCATE of the person table: its counts go with it, on every shard
BEGIN;
SET LOCAL citus.multi_shard_modify_mode = 'sequential';  -- reads of reference tables follow
TRUNCATE crm.person;
SELECT is(value_of('SELECT coalesce(sum(visible + retained), 0) FROM lead_mgmt.status_counts'), '0',
          'TRUNCATE: the count summary is empty with the persons');
ROLLBACK;

-- a person's company is the distribution column: Citus refuses to change
-- it, and the documented way is a delete and an insert in one transaction
SELECT throws_ok($$UPDATE crm.person SET company_id = 119 WHERE company_id = 120 AND id = 1$$,
                 '0A000', 'modifying the partition value of rows is not allowed',
                 'changing a person''s company is refused by Citus');
SELECT is(value_of($$SELECT count(*) FROM crm.person WHERE company_id = 120 AND id = 1$$), '1', 'and nothing changed');
BEGIN;
WITH gone AS (DELETE FROM crm.person WHERE company_id = 120 AND id = 1 RETURNING name)
INSERT INTO crm.person (company_id, id, name) SELECT 119, 1001, name FROM gone;
COMMIT;
SELECT is(value_of($$SELECT string_agg(company_id || ':' || lead_status, ',') FROM crm.person WHERE id = 1001$$), '119:open',
          'moved by delete and insert: B1 gives the new row under a lead the default');

-- a DELETE spanning every shard
DELETE FROM crm.person WHERE company_id BETWEEN 131 AND 140;
SELECT is((SELECT count(*)::int FROM crm.person WHERE company_id BETWEEN 131 AND 140), 0, 'a multi-shard DELETE');

-- compact_counts() from the coordinator folds every worker's shards; two
-- statements of a serializable transaction (which never folds at commit)
-- leave two rows of one key in a shard
BEGIN ISOLATION LEVEL SERIALIZABLE;
INSERT INTO crm.person (company_id, id, name) VALUES (118, 80, 'one');
INSERT INTO crm.person (company_id, id, name) VALUES (118, 81, 'two');
COMMIT;
SELECT cmp_ok((SELECT count(*)::int FROM (
             SELECT get_shard_id_for_distribution_column('lead_mgmt.count_delta', company_id), kind, category, status, owner
               FROM lead_mgmt.count_delta GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) x), '>', 0,
          'before it, a key has several rows in a shard');
SELECT cmp_ok(lead_mgmt.compact_counts(), '>', 0::bigint, 'compact_counts() folds rows on the workers');
SELECT is((SELECT count(*)::int FROM (
             SELECT get_shard_id_for_distribution_column('lead_mgmt.count_delta', company_id), kind, category, status, owner
               FROM lead_mgmt.count_delta GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) x), 0,
          'after it, one row per key and shard');

-- history and counts agree with the rows
SELECT is((SELECT count(*)::int FROM lead_mgmt.verify_history()), 0, 'H1: the history replays to every stored status');
SELECT is((SELECT count(*)::int FROM lead_mgmt.verify_counts()), 0, 'the count summary equals a recount');
SELECT is(value_of('SELECT sum(visible) FROM lead_mgmt.status_counts'),
          value_of('SELECT count(*) FROM crm.person p JOIN crm.company c ON c.id = p.company_id
                      JOIN lead_mgmt.category k ON k.key = c.category
                     WHERE k.enable_lead_status AND p.lead_status IS NOT NULL'),
          'status_counts adds up to the visible leads');
SELECT is(value_of('SELECT sum(cards) FROM lead_mgmt.board_columns'),
          value_of('SELECT sum(visible) FROM lead_mgmt.status_counts'),
          'board_columns counts the same cards');
SELECT is(value_of('SELECT sum(leads) FROM lead_mgmt.owner_counts'),
          value_of('SELECT count(*) FROM crm.person p JOIN crm.company c ON c.id = p.company_id
                      JOIN lead_mgmt.category k ON k.key = c.category
                     WHERE k.enable_lead_status AND p.lead_status IS NOT NULL'),
          'owner_counts adds up to the visible leads');
SELECT ok(lead_mgmt.counts_available(), 'the count views read the summary on the coordinator');

SELECT * FROM finish();
