-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Rule H1: every change of a stored status, and every hide and re-show, is
-- appended to lead_mgmt.status_history in the same transaction, from every
-- path; history replays to the stored statuses (verify_history()); rolled
-- back work leaves no row; one statement is one instant; the history is
-- append-only; turning it off needs lead_mgmt_admin.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(54);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_hist_clerk') THEN
        CREATE ROLE lm_hist_clerk;
    END IF;
END
$$;

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
INSERT INTO crm.company (id, name) VALUES (9, 'Early');
ALTER TABLE crm.company ADD COLUMN category text;
ALTER TABLE crm.person ADD COLUMN lead_status text;
UPDATE crm.company SET category = 'lead' WHERE id = 9;
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (90, 9, 'Before', 'qualified'), (91, 9, 'Empty', NULL);
SELECT lead_mgmt.manage('crm.company', 'crm.person');
GRANT SELECT, INSERT, UPDATE ON crm.company, crm.person TO lm_hist_clerk;
GRANT USAGE ON SCHEMA crm TO lm_hist_clerk;

CREATE FUNCTION pg_temp.rows(person int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s>%s@%s', event, coalesce(from_status, '-'), coalesce(to_status, '-'),
                             coalesce(category, '-')), ' ' ORDER BY seq)
      FROM lead_mgmt.status_history WHERE person_id = $1
$$;

-- manage() starts the history from the statuses there are
SELECT is(pg_temp.rows(90), 'created:->qualified@lead', 'manage(): an existing status gets a created row');
SELECT is(pg_temp.rows(91), 'created:->open@lead', 'manage(): the back-filled default gets a created row');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint, 'verify_history(): nothing differs after manage()');

INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'customer'), (3, 'Cargo', 'lead');

-- one statement, one instant; the source setting and the session user are recorded
SET LOCAL lead_mgmt.source = 'crm-import';
INSERT INTO crm.person (id, company_id, name) VALUES (1, 1, 'Ada'), (2, 1, 'Alan'), (3, 2, 'Bea');
RESET lead_mgmt.source;
SELECT is((SELECT count(DISTINCT changed_at) FROM lead_mgmt.status_history WHERE person_id IN (1, 2)), 1::bigint,
    'rows of one statement share its timestamp');
SELECT results_eq($$SELECT person_id, company_id, event::text, to_status, source, changed_by::text = session_user
                      FROM lead_mgmt.status_history WHERE person_id IN (1, 2, 3) ORDER BY person_id$$,
    $$VALUES (1, 1, 'created', 'open', 'crm-import', true), (2, 1, 'created', 'open', 'crm-import', true)$$,
    'created rows carry person, company, status, source and the session user; a customer''s person has none');

-- the path of one person through every event
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1;
UPDATE crm.company SET category = 'customer' WHERE id = 1;
UPDATE crm.company SET category = 'mql' WHERE id = 1;
SELECT is(pg_temp.rows(1), 'created:->open@lead set:open>contacting@lead hidden:contacting>contacting@customer entered:contacting>open@mql',
    'set, hidden and entered (reset) rows with the category at the time');
SELECT is(pg_temp.rows(2), 'created:->open@lead hidden:open>open@customer shown:open>open@mql',
    'a person at the default is shown again');
UPDATE crm.person SET company_id = 3 WHERE id = 3;
UPDATE crm.person SET company_id = 2 WHERE id = 1;
SELECT is(pg_temp.rows(3), 'entered:->open@lead', 'a move into a lead company: entered');
SELECT alike(pg_temp.rows(1), '% hidden:open>open@customer', 'a move out of one: hidden');

-- leaving for no company: hidden, in the company left (text keys too)
INSERT INTO crm.person (id, company_id, name) VALUES (4, 3, 'Nils');
UPDATE crm.person SET company_id = NULL WHERE id = 4;
SELECT results_eq($$SELECT company_id, event::text, from_status, to_status, category FROM lead_mgmt.status_history
                     WHERE person_id = 4 ORDER BY seq$$,
    $$VALUES (3, 'created', NULL, 'open', 'lead'), (3, 'hidden', 'open', 'open', 'lead')$$,
    'a person leaving for no company is hidden in the company left');

-- catalog flips, both ways
INSERT INTO crm.company (id, name, category) VALUES (5, 'Dune', 'opportunity');
INSERT INTO crm.person (id, company_id, name) VALUES (5, 5, 'Dora');
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
SELECT is(pg_temp.rows(5), 'entered:->open@opportunity hidden:open>open@opportunity', 'a catalog flip on and off');

-- restore mode
SET LOCAL lead_mgmt.reentry = restore;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 2;
UPDATE crm.company SET category = 'customer' WHERE id = 1;
UPDATE crm.company SET category = 'lead' WHERE id = 1;
SELECT alike(pg_temp.rows(2), '% set:open>qualified@mql hidden:qualified>qualified@customer shown:qualified>qualified@lead',
    'reentry = restore: shown with the kept value');
RESET lead_mgmt.reentry;

-- savepoints: rolled back rows are gone, released ones stay
SAVEPOINT s;
UPDATE crm.person SET lead_status = 'renurture' WHERE id = 2;
UPDATE crm.company SET category = 'partner' WHERE id = 3;
ROLLBACK TO SAVEPOINT s;
SELECT unalike(pg_temp.rows(2), '%renurture%', 'a rolled-back status change leaves no row');
SELECT is(pg_temp.rows(3), 'entered:->open@lead', 'a rolled-back category change leaves no row');
SAVEPOINT s2;
UPDATE crm.person SET lead_status = 'renurture' WHERE id = 2;
RELEASE SAVEPOINT s2;
SELECT alike(pg_temp.rows(2), '% set:qualified>renurture@lead', 'a released savepoint keeps its row');

-- a refused statement leaves none
SAVEPOINT s3;
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'disqualified' WHERE id IN (1, 2)$$, '23L01', NULL,
    'a statement touching a hidden person is refused');
ROLLBACK TO SAVEPOINT s3;
SELECT alike(pg_temp.rows(2), '% set:qualified>renurture@lead', 'and wrote no row');

-- the history replays to every stored status
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint,
    'verify_history(): every person''s history replays to the stored status');

-- an ordinary writer goes through the same path; history is not theirs to touch
SET LOCAL ROLE lm_hist_clerk;
INSERT INTO crm.person (id, company_id, name) VALUES (6, 3, 'Eli');
SELECT throws_ok($$SET lead_mgmt.track_history = off$$, '42501', NULL,
    'an ordinary role may not turn status history off');
SELECT throws_ok($$INSERT INTO lead_mgmt.status_history (company_id, person_id, event, changed_at, changed_by)
                    VALUES (3, 6, 'set', now(), current_user)$$, '42501', NULL,
    'nor write it directly');
SELECT throws_ok($$SELECT lead_mgmt.purge_history(now())$$, '42501', NULL,
    'nor purge it');
RESET ROLE;
SELECT is(pg_temp.rows(6), 'created:->open@lead', 'the writer''s insert is recorded');

-- append-only, even for its owner
SELECT throws_ok($$UPDATE lead_mgmt.status_history SET to_status = 'qualified'$$, '42501', NULL,
    'history rows cannot be updated');
SELECT throws_ok($$DELETE FROM lead_mgmt.status_history$$, '42501', NULL,
    'nor deleted');
SELECT throws_ok($$TRUNCATE lead_mgmt.status_history$$, '42501', NULL,
    'nor truncated');

-- rules off (X1): statuses written are still recorded, as set
SET LOCAL lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1;
RESET lead_mgmt.enforce;
SELECT alike(pg_temp.rows(1), '% set:open>qualified@customer', 'with the rules off, a written status is recorded as set, with the category');
SELECT is((SELECT visible FROM lead_mgmt.status_history WHERE person_id = 1 ORDER BY seq DESC LIMIT 1), false,
    'and as not shown where the category hides it');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint, 'and history still replays');

-- history off: nothing recorded, and verify_history() says who differs
SET LOCAL lead_mgmt.track_history = off;
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 6;
RESET lead_mgmt.track_history;
SELECT is(pg_temp.rows(6), 'created:->open@lead', 'with history off, nothing is recorded');
SELECT results_eq($$SELECT person_id, stored_status, replayed_status FROM lead_mgmt.verify_history()$$,
    $$VALUES ('6', 'contacting', 'open')$$, 'verify_history() reports the person whose history differs');

-- start_history(): a missing history is created and starts from the statuses there are
DROP TABLE lead_mgmt.status_history;
SELECT lives_ok('SELECT lead_mgmt.start_history()', 'start_history(): creates a missing history');
SELECT results_eq($$SELECT count(*), count(*) FILTER (WHERE source = 'lead_mgmt.start_history()') FROM lead_mgmt.status_history$$,
    $$SELECT count(lead_status), count(lead_status) FROM crm.person WHERE company_id IS NOT NULL$$,
    'start_history(): one row per person of a company with a status');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint, 'start_history(): history replays');
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 6;
SELECT alike(pg_temp.rows(6), '% set:contacting>qualified@lead', 'and is written from then on');

-- purge: lead_mgmt_admin (here a superuser) removes old rows, and says how many
SELECT is(lead_mgmt.purge_history('-infinity'), 0::bigint, 'purge_history(): nothing before -infinity');
SELECT ok(lead_mgmt.purge_history('infinity') > 0, 'purge_history(): every row before infinity');


-- Rows are recorded as they were written, after every BEFORE trigger.
CREATE TABLE crm.company_b (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person_b (id int PRIMARY KEY, company_id int REFERENCES crm.company_b, name text NOT NULL);
SELECT lead_mgmt.unmanage();
DROP TABLE lead_mgmt.status_history;
SELECT lead_mgmt.manage('crm.company_b', 'crm.person_b');
INSERT INTO crm.company_b (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'customer');
INSERT INTO crm.person_b (id, company_id, name) VALUES (1, 1, 'Ada');

-- INSERT ... ON CONFLICT: an insert that did not happen records nothing;
-- the update it became records a set
INSERT INTO crm.person_b (id, company_id, name, lead_status) VALUES (1, 1, 'Ada', 'contacting')
    ON CONFLICT (id) DO NOTHING;
SELECT is(pg_temp.rows(1), 'created:->open@lead', 'ON CONFLICT DO NOTHING: the skipped insert records nothing');
INSERT INTO crm.person_b (id, company_id, name, lead_status) VALUES (1, 1, 'Ada', 'contacting')
    ON CONFLICT (id) DO UPDATE SET lead_status = EXCLUDED.lead_status;
SELECT is(pg_temp.rows(1), 'created:->open@lead set:open>contacting@lead', 'ON CONFLICT DO UPDATE: the update records a set');
INSERT INTO crm.person_b (id, company_id, name) VALUES (2, 1, 'Alan') ON CONFLICT (id) DO NOTHING;
SELECT is(pg_temp.rows(2), 'created:->open@lead', 'ON CONFLICT without a conflict: created');

-- MERGE (PostgreSQL 15): inserted and updated rows alike
MERGE INTO crm.person_b p
USING (VALUES (2, 'qualified'), (3, NULL)) v (id, status) ON p.id = v.id
 WHEN MATCHED THEN UPDATE SET lead_status = v.status
 WHEN NOT MATCHED THEN INSERT (id, company_id, name) VALUES (v.id, 1, 'Bea');
SELECT is(pg_temp.rows(2) || ' / ' || pg_temp.rows(3), 'created:->open@lead set:open>qualified@lead / created:->open@lead',
    'MERGE: the update and the insert are recorded');

-- COPY
COPY crm.person_b (id, company_id, name) FROM STDIN;
4	1	Cato
\.
SELECT is(pg_temp.rows(4), 'created:->open@lead', 'COPY: created');

-- a user's BEFORE trigger after lead_mgmt's: what it writes is what is recorded
CREATE FUNCTION pg_temp.second_opinion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name = 'skip' THEN
        RETURN NULL;
    END IF;
    IF NEW.name = 'promote' THEN
        NEW.lead_status := 'qualified';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER zz_second_opinion BEFORE INSERT OR UPDATE ON crm.person_b
    FOR EACH ROW EXECUTE FUNCTION pg_temp.second_opinion();
INSERT INTO crm.person_b (id, company_id, name) VALUES (5, 1, 'skip'), (6, 1, 'promote');
SELECT is((SELECT count(*)::int FROM lead_mgmt.status_history WHERE person_id = 5), 0,
    'a row another trigger skipped records nothing');
SELECT is(pg_temp.rows(6), 'created:->qualified@lead', 'a status another trigger changed is recorded as written');
DROP TRIGGER zz_second_opinion ON crm.person_b;

-- order: a user's AFTER trigger changes the same person again inside an
-- EXCEPTION block (a subtransaction) while the outer change is not written
-- yet: the rows keep the order of the changes, and a rolled-back inner
-- change takes no outer row with it
CREATE FUNCTION pg_temp.follow_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.lead_status = 'contacting' AND NEW.name = 'Cato' THEN
        BEGIN
            UPDATE crm.person_b SET lead_status = 'disqualified' WHERE id = NEW.id;
        EXCEPTION WHEN OTHERS THEN
            RAISE;
        END;
    ELSIF NEW.lead_status = 'contacting' THEN
        BEGIN
            UPDATE crm.person_b SET lead_status = 'disqualified' WHERE id = NEW.id;
            RAISE EXCEPTION 'undo';
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER zz_follow_up AFTER UPDATE ON crm.person_b
    FOR EACH ROW EXECUTE FUNCTION pg_temp.follow_up();
UPDATE crm.person_b SET lead_status = 'contacting' WHERE id = 4;
SELECT is(pg_temp.rows(4), 'created:->open@lead set:open>contacting@lead set:contacting>disqualified@lead',
    'a change inside an EXCEPTION block comes after the outer change it follows');
UPDATE crm.person_b SET lead_status = 'contacting' WHERE id = 2;
SELECT is(pg_temp.rows(2), 'created:->open@lead set:open>qualified@lead set:qualified>contacting@lead',
    'a rolled-back inner change is not recorded, and the outer change still is');
DROP TRIGGER zz_follow_up ON crm.person_b;

-- a move to another company, and one out of a lead company into a customer
UPDATE crm.person_b SET company_id = 2 WHERE id = 3;
SELECT results_eq($$SELECT event::text, from_status, to_status, category, visible FROM lead_mgmt.status_history
                     WHERE person_id = 3 ORDER BY seq$$,
    $$VALUES ('created', NULL, 'open', 'lead', true), ('hidden', 'open', 'open', 'customer', false)$$,
    'a move into a customer: hidden, not shown, with the new category');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint, 'verify_history(): the paths above replay');

-- visible follows the events: hidden rows are not shown, all others of a lead company are
SELECT is((SELECT count(*)::int FROM lead_mgmt.status_history WHERE visible <> (event <> 'hidden')), 0,
    'visible is false exactly on hidden rows here');

-- a person's key changes: the history follows
UPDATE crm.person_b SET id = 40 WHERE id = 4;
SELECT is(pg_temp.rows(40), 'created:->open@lead set:open>contacting@lead set:contacting>disqualified@lead',
    'a changed person key takes its history along');
SELECT is((SELECT count(*)::int FROM lead_mgmt.status_history WHERE person_id = 4), 0, 'nothing is left under the old key');
UPDATE crm.person_b SET id = 41, lead_status = 'qualified' WHERE id = 40;
SELECT alike(pg_temp.rows(41), '% set:disqualified>qualified@lead', 'a key and a status changed together');
SELECT throws_ok($$UPDATE lead_mgmt.status_history SET person_id = 99 WHERE person_id = 41$$, '42501', NULL,
    'the history stays append-only for everyone else');

-- a key of (company, id): renumbering the company (ON UPDATE CASCADE) is no move, and the history follows
SELECT lead_mgmt.unmanage();
DROP TABLE lead_mgmt.status_history;
CREATE TABLE crm.company_c (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person_c (company_id int REFERENCES crm.company_c ON UPDATE CASCADE, id int,
                           name text NOT NULL, PRIMARY KEY (company_id, id));
SELECT lead_mgmt.manage('crm.company_c', 'crm.person_c');
INSERT INTO crm.company_c (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'lead');
INSERT INTO crm.person_c (company_id, id, name) VALUES (1, 1, 'Ada'), (2, 1, 'Bea');
UPDATE crm.person_c SET lead_status = 'contacting' WHERE company_id = 1;
UPDATE crm.company_c SET id = 10 WHERE id = 1;
SELECT results_eq($$SELECT company_id, person_id, event::text, to_status FROM lead_mgmt.status_history ORDER BY seq$$,
    $$VALUES (10, 1, 'created', 'open'), (2, 1, 'created', 'open'), (10, 1, 'set', 'contacting')$$,
    'a renumbered company takes the history of its persons along');
SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint, 'and history replays');

SELECT * FROM finish();
ROLLBACK;
