-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- The analytics over status history (H1): status_counts_at(), time_in_status,
-- funnel (view and function), new_leads and aging, checked against numbers
-- worked out by hand on a fixture with fixed timestamps.
--
-- The fixture's history is imported the way an administrator imports the
-- history of another CRM: the persons are written with status history off,
-- then lead_mgmt_admin (here a superuser) appends history rows with the
-- times they happened.  verify_history() confirms that the imported history
-- replays to the stored statuses.
BEGIN;
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
CREATE EXTENSION lead_mgmt;

SELECT plan(27);

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name');

-- Acme is a Lead, Bolt an MQL, Cargo was a Lead and is a Customer now
SET lead_mgmt.track_history = off;
INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'lead'), (2, 'Bolt', 'mql'), (3, 'Cargo', 'lead');
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES
    (1, 1, 'Ada', 'qualified'), (2, 1, 'Alan', 'disqualified'), (3, 2, 'Bea', 'qualified'),
    (4, 2, 'Ben', 'open'), (5, 3, 'Cato', 'contacting'), (6, 1, 'Ann', 'renurture');
UPDATE crm.company SET category = 'customer' WHERE id = 3;
RESET lead_mgmt.track_history;

-- person   history (2026, UTC, 10:00)
-- 1 Ada    created open (lead) Jan 5, contacting Jan 7, qualified Jan 17
-- 2 Alan   created open (lead) Jan 5, contacting Jan 10, disqualified Jan 12
-- 3 Bea    created contacting (mql) Jan 6, qualified Jan 20
-- 4 Ben    created open (mql) Feb 2
-- 5 Cato   created open (lead) Jan 8, contacting Jan 9, hidden (customer) Jan 15
-- 6 Ann    entered open (lead) Feb 3, renurture Feb 10
INSERT INTO lead_mgmt.status_history
    (company_id, person_id, from_status, to_status, event, category, changed_at, changed_by, visible)
VALUES (1, 1, NULL, 'open', 'created', 'lead', '2026-01-05 10:00+00', 'import', true),
       (1, 2, NULL, 'open', 'created', 'lead', '2026-01-05 10:00+00', 'import', true),
       (2, 3, NULL, 'contacting', 'created', 'mql', '2026-01-06 10:00+00', 'import', true),
       (1, 1, 'open', 'contacting', 'set', 'lead', '2026-01-07 10:00+00', 'import', true),
       (3, 5, NULL, 'open', 'created', 'lead', '2026-01-08 10:00+00', 'import', true),
       (3, 5, 'open', 'contacting', 'set', 'lead', '2026-01-09 10:00+00', 'import', true),
       (1, 2, 'open', 'contacting', 'set', 'lead', '2026-01-10 10:00+00', 'import', true),
       (1, 2, 'contacting', 'disqualified', 'set', 'lead', '2026-01-12 10:00+00', 'import', true),
       (3, 5, 'contacting', 'contacting', 'hidden', 'customer', '2026-01-15 10:00+00', 'import', false),
       (1, 1, 'contacting', 'qualified', 'set', 'lead', '2026-01-17 10:00+00', 'import', true),
       (2, 3, 'contacting', 'qualified', 'set', 'mql', '2026-01-20 10:00+00', 'import', true),
       (2, 4, NULL, 'open', 'created', 'mql', '2026-02-02 10:00+00', 'import', true),
       (1, 6, NULL, 'open', 'entered', 'lead', '2026-02-03 10:00+00', 'import', true),
       (1, 6, 'open', 'renurture', 'set', 'lead', '2026-02-10 10:00+00', 'import', true);

SELECT is((SELECT count(*) FROM lead_mgmt.verify_history()), 0::bigint,
    'the imported history replays to the stored statuses');

------------------------------------------------------------------------------
-- status_counts_at
------------------------------------------------------------------------------

CREATE FUNCTION pg_temp.counts_at(t timestamptz) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s=%s/%s', lead_status, visible, retained), ' ' ORDER BY rank)
      FROM lead_mgmt.status_counts_at(t) WHERE total > 0
$$;

SELECT is(pg_temp.counts_at('2025-12-31'), NULL, 'status_counts_at(): nobody before the first row');
SELECT is(pg_temp.counts_at('2026-01-05 10:00+00'), 'open=2/0', 'status_counts_at(): rows at the very moment count');
SELECT is(pg_temp.counts_at('2026-01-11'), 'contacting=4/0', 'status_counts_at(): four contacting on January 11');
SELECT is(pg_temp.counts_at('2026-01-16'), 'contacting=2/1 disqualified=1/0',
    'status_counts_at(): Cato''s status retained after the hide on January 15');
SELECT set_eq($$SELECT lead_status, visible, retained, total FROM lead_mgmt.status_counts_at(now())$$,
              $$SELECT lead_status, visible, retained, total FROM lead_mgmt.status_counts$$,
    'status_counts_at(now()) equals status_counts');
SELECT is(pg_temp.counts_at(now()), 'open=1/0 contacting=0/1 disqualified=1/0 renurture=1/0 qualified=2/0',
    'status_counts_at(now()): the stored statuses');

------------------------------------------------------------------------------
-- time_in_status
------------------------------------------------------------------------------

-- completed stays: open 1, 2, 5, 7 days; contacting 2, 10, 14 days
-- (Cato's stay in contacting is still open: a hide does not end it)
SELECT results_eq($$SELECT lead_status, completed_stays, avg_days, median_days, p90_days
                      FROM lead_mgmt.time_in_status WHERE completed_stays > 0 ORDER BY rank$$,
    $$VALUES ('open', 4::bigint, 3.75, 3.50, 6.40), ('contacting', 3::bigint, 8.67, 10.00, 13.20)$$,
    'time_in_status: completed stays, average, median and 90th percentile in days');
SELECT results_eq($$SELECT lead_status, open_stays FROM lead_mgmt.time_in_status ORDER BY rank$$,
    $$VALUES ('open', 1::bigint), ('contacting', 0::bigint), ('disqualified', 1::bigint),
             ('renurture', 1::bigint), ('qualified', 2::bigint)$$,
    'time_in_status: open stays of shown statuses (Cato''s hidden one is not)');
SELECT is((SELECT avg_duration FROM lead_mgmt.time_in_status WHERE lead_status = 'open'), interval '3 days 18 hours',
    'time_in_status: avg_duration as an interval');
SELECT ok((SELECT avg_open_age BETWEEN now() - timestamptz '2026-02-02 10:00+00' - interval '1 second'
                                   AND now() - timestamptz '2026-02-02 10:00+00' + interval '1 second'
             FROM lead_mgmt.time_in_status WHERE lead_status = 'open'),
    'time_in_status: the open stay''s age runs from Ben''s row to now');

------------------------------------------------------------------------------
-- funnel
------------------------------------------------------------------------------

-- stages: open (kind open), contacting (working), qualified (qualified)
-- strict: open Ada Alan Ben Cato Ann = 5; contacting in order Ada Alan Cato = 3;
--         qualified in order Ada = 1 (Bea skipped open)
-- any:    furthest stage: Ada 3, Alan 2, Bea 3, Ben 1, Cato 2, Ann 1
SELECT results_eq($$SELECT variant, position, lead_status, persons, step_conversion, cumulative_conversion
                      FROM lead_mgmt.funnel WHERE position IS NOT NULL ORDER BY variant DESC, position$$,
    $$VALUES ('strict', 1::bigint, 'open', 5::bigint, NULL::numeric, 1.0000),
             ('strict', 2::bigint, 'contacting', 3::bigint, 0.6000, 0.6000),
             ('strict', 3::bigint, 'qualified', 1::bigint, 0.3333, 0.2000),
             ('any', 1::bigint, 'open', 6::bigint, NULL::numeric, 1.0000),
             ('any', 2::bigint, 'contacting', 4::bigint, 0.6667, 0.6667),
             ('any', 3::bigint, 'qualified', 2::bigint, 0.5000, 0.3333)$$,
    'funnel: persons per stage, step and cumulative conversion, strict and any');
SELECT results_eq($$SELECT lead_status, persons, cumulative_conversion FROM lead_mgmt.funnel
                     WHERE position IS NULL AND variant = 'strict' ORDER BY lead_status$$,
    $$VALUES ('disqualified', 1::bigint, 0.1667), ('renurture', 1::bigint, 0.1667)$$,
    'funnel: disqualified and nurture beside it, as a share of the cohort');
-- January's cohort (Ada, Alan, Bea, Cato), followed up to February 1
SELECT results_eq($$SELECT variant, position, persons FROM lead_mgmt.funnel('2026-01-01', '2026-02-01')
                     WHERE position IS NOT NULL ORDER BY variant DESC, position$$,
    $$VALUES ('strict', 1::bigint, 3::bigint), ('strict', 2::bigint, 3::bigint), ('strict', 3::bigint, 1::bigint),
             ('any', 1::bigint, 4::bigint), ('any', 2::bigint, 4::bigint), ('any', 3::bigint, 2::bigint)$$,
    'funnel(period): the persons who became leads in January');
SELECT results_eq($$SELECT persons FROM lead_mgmt.funnel('2026-01-01', '2026-01-15')
                     WHERE position IS NOT NULL AND variant = 'any' ORDER BY position$$,
    $$VALUES (4::bigint), (4::bigint), (0::bigint)$$,
    'funnel(period): nobody had reached qualified by the period''s end');
SELECT results_eq($$SELECT variant, position, persons FROM lead_mgmt.funnel(NULL, NULL, ARRAY['mql'])
                     WHERE position IS NOT NULL ORDER BY variant DESC, position$$,
    $$VALUES ('strict', 1::bigint, 1::bigint), ('strict', 2::bigint, 0::bigint), ('strict', 3::bigint, 0::bigint),
             ('any', 1::bigint, 2::bigint), ('any', 2::bigint, 1::bigint), ('any', 3::bigint, 1::bigint)$$,
    'funnel(categories): the persons who became leads in an MQL company');

------------------------------------------------------------------------------
-- new_leads
------------------------------------------------------------------------------

SELECT results_eq($$SELECT period_start, category, leads, created, entered FROM lead_mgmt.new_leads
                     WHERE period = 'day' ORDER BY period_start, category$$,
    $$VALUES ('2026-01-05'::date, 'lead', 2::bigint, 2::bigint, 0::bigint),
             ('2026-01-06'::date, 'mql', 1::bigint, 1::bigint, 0::bigint),
             ('2026-01-08'::date, 'lead', 1::bigint, 1::bigint, 0::bigint),
             ('2026-02-02'::date, 'mql', 1::bigint, 1::bigint, 0::bigint),
             ('2026-02-03'::date, 'lead', 1::bigint, 0::bigint, 1::bigint)$$,
    'new_leads per day and category: created and entered');
SELECT results_eq($$SELECT period_start, category, leads FROM lead_mgmt.new_leads
                     WHERE period = 'week' ORDER BY period_start, category$$,
    $$VALUES ('2026-01-05'::date, 'lead', 3::bigint), ('2026-01-05'::date, 'mql', 1::bigint),
             ('2026-02-02'::date, 'lead', 1::bigint), ('2026-02-02'::date, 'mql', 1::bigint)$$,
    'new_leads per week (from Monday)');
SELECT results_eq($$SELECT period_start, category, leads, category_name FROM lead_mgmt.new_leads
                     WHERE period = 'month' ORDER BY period_start, category$$,
    $$VALUES ('2026-01-01'::date, 'lead', 3::bigint, 'Lead'), ('2026-01-01'::date, 'mql', 1::bigint, 'Marketing qualified lead (MQL)'),
             ('2026-02-01'::date, 'lead', 1::bigint, 'Lead'), ('2026-02-01'::date, 'mql', 1::bigint, 'Marketing qualified lead (MQL)')$$,
    'new_leads per month, with the category''s name');

------------------------------------------------------------------------------
-- person_leads: status_since, days_in_status
------------------------------------------------------------------------------

SELECT results_eq($$SELECT person_id, status_since FROM crm.person p
                      JOIN lead_mgmt.person_leads l ON l.person_id = p.id ORDER BY 1$$,
    $$VALUES (1, '2026-01-17 10:00+00'::timestamptz), (2, '2026-01-12 10:00+00'), (3, '2026-01-20 10:00+00'),
             (4, '2026-02-02 10:00+00'), (5, NULL), (6, '2026-02-10 10:00+00')$$,
    'person_leads.status_since: the last change of the status (none shown while hidden)');

------------------------------------------------------------------------------
-- aging: leads of Dune, whose history starts 3, 20, 45 and 100 days ago
------------------------------------------------------------------------------

UPDATE lead_mgmt.lead_status SET stale_after_days = 14 WHERE key = 'open';
SET lead_mgmt.track_history = off;
INSERT INTO crm.company (id, name, category) VALUES (4, 'Dune', 'lead');
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES
    (7, 4, 'Dag', 'open'), (8, 4, 'Dina', 'open'), (9, 4, 'Dora', 'contacting'), (10, 4, 'Dan', 'open'),
    (11, 4, 'Did', 'open');
RESET lead_mgmt.track_history;
INSERT INTO lead_mgmt.status_history
    (company_id, person_id, from_status, to_status, event, category, changed_at, changed_by, visible)
VALUES (4, 10, NULL, 'open', 'created', 'lead', now() - interval '100 days', 'import', true),
       (4, 9, NULL, 'contacting', 'created', 'lead', now() - interval '45 days', 'import', true),
       (4, 8, NULL, 'open', 'created', 'lead', now() - interval '20 days', 'import', true),
       (4, 7, NULL, 'open', 'created', 'lead', now() - interval '3 days', 'import', true);

-- open: Ben (Feb 2, more than 90 days), Dag 3, Dina 20, Dan 100, Did unknown (no history)
SELECT results_eq($$SELECT lead_status, leads, days_0_7, days_8_30, days_31_90, days_over_90, days_unknown, stale
                      FROM lead_mgmt.aging WHERE lead_status IN ('open', 'contacting') ORDER BY rank$$,
    $$VALUES ('open', 5::bigint, 1::bigint, 1::bigint, 0::bigint, 2::bigint, 1::bigint, 3::bigint),
             ('contacting', 1::bigint, 0::bigint, 0::bigint, 1::bigint, 0::bigint, 0::bigint, 0::bigint)$$,
    'aging: shown leads per bucket, and those past stale_after_days');
SELECT is((SELECT sum(leads) FROM lead_mgmt.aging),
          (SELECT count(*)::numeric FROM lead_mgmt.person_leads WHERE visible),
    'aging: every shown lead is in one row');
SELECT is((SELECT count(*) FROM lead_mgmt.aging WHERE lead_status = 'renurture'), 1::bigint,
    'aging: every status that is not deleted has a row');

------------------------------------------------------------------------------
-- labels follow lead_mgmt.language; readers see their rows only
------------------------------------------------------------------------------

SET lead_mgmt.language = 'nb';
SELECT is((SELECT status_name FROM lead_mgmt.time_in_status WHERE lead_status = 'open'), 'Åpen',
    'time_in_status: names in lead_mgmt.language');
SELECT is((SELECT status_name FROM lead_mgmt.funnel WHERE variant = 'any' AND position = 3), 'Kvalifisert',
    'funnel: names in lead_mgmt.language');
RESET lead_mgmt.language;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_analytics_reader') THEN
        CREATE ROLE lm_analytics_reader;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA crm TO lm_analytics_reader;
GRANT SELECT ON crm.company, crm.person TO lm_analytics_reader;
ALTER TABLE crm.person ENABLE ROW LEVEL SECURITY;
CREATE POLICY acme_only ON crm.person FOR SELECT USING (company_id = 1);
SET LOCAL ROLE lm_analytics_reader;
SELECT is(pg_temp.counts_at(now()), 'disqualified=1/0 renurture=1/0 qualified=1/0',
    'status_counts_at(): a reader under row-level security counts the persons they may see');
SELECT is((SELECT persons FROM lead_mgmt.funnel WHERE variant = 'any' AND position = 1), 3::bigint,
    'funnel: the same for a reader under row-level security');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
