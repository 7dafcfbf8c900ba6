-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Walkthrough of lead_mgmt on the demo CRM (scripts/demo-data.sql): the lead
-- rules on one new company, then what users look at: the board, the
-- dashboard tiles, the history analytics, a category rule, a saved
-- selection, in English and in Norwegian.
--
-- scripts/demo runs it with psql -X, echoing each statement before its
-- result.  Statements meant to fail are wrapped in \set ON_ERROR_STOP 0 ... 1.
--
\set ON_ERROR_STOP 1
\set QUIET on
\set VERBOSITY default
\set SHOW_CONTEXT never
\pset null ''
\pset footer off

\echo '== 1. The rules, on a new company ================================================'
\echo 'A web form brings in Fjordlys Solkraft AS as a Lead, with two contacts.'
\echo 'The INSERTs name no lead status: the database sets Open (rule B1).'
\echo
\set ECHO queries
INSERT INTO crm.company (name, city, industry, owner, category)
VALUES ('Fjordlys Solkraft AS', 'Bergen', 'Energy', 'Sara Lie', 'lead') RETURNING id AS fjordlys \gset
INSERT INTO crm.person (company_id, first_name, last_name, title, owner)
VALUES (:fjordlys, 'Hanne', 'Vik', 'Daglig leder', 'Sara Lie'),
       (:fjordlys, 'Eirik', 'Brekke', 'Innkjøpsansvarlig', 'Sara Lie');
SELECT min(id) AS hanne FROM crm.person WHERE company_id = :fjordlys \gset
\set ECHO none
\echo
\echo 'Sara works Hanne to Qualified (each person has their own status, B4); then'
\echo 'Fjordlys signs and becomes a Customer: the statuses are hidden, not lost (B3).'
\echo
\set ECHO queries
UPDATE crm.person SET lead_status = 'contacting' WHERE id = :hanne;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = :hanne;
UPDATE crm.company SET category = 'customer' WHERE id = :fjordlys;
SELECT label, category, lead_status, retained_status, visible
  FROM lead_mgmt.person_leads WHERE company_id = :fjordlys ORDER BY person_id;
\set ECHO none
\echo
\echo 'A hidden status cannot be set (B5):'
\echo
\set ON_ERROR_STOP 0
\set ECHO queries
UPDATE crm.person SET lead_status = 'contacting' WHERE id = :hanne;
\set ECHO none
\set ON_ERROR_STOP 1
\echo
\echo 'A year later Fjordlys is an MQL again: every contact starts at Open (B2),'
\echo 'and the history shows every step, with the category at the time:'
\echo
\set ECHO queries
UPDATE crm.company SET category = 'mql' WHERE id = :fjordlys;
SELECT event, from_status, to_status, category, visible
  FROM lead_mgmt.status_history WHERE person_id = :hanne ORDER BY seq;
\set ECHO none

\echo
\echo '== 2. The board ===================================================================='
\echo 'Sara''s leads by status, longest in status first; every column says how many'
\echo 'cards it has (lead_mgmt.board_columns_by_owner and board_by_owner):'
\echo
\set ECHO queries
SELECT coalesce(b.position, 1) AS "#", c.status_name || ' (' || c.cards || ')' AS col,
       b.label || ', ' || b.days_in_status || ' d' AS card, c.position AS col_order
  FROM lead_mgmt.board_columns_by_owner c
  LEFT JOIN lead_mgmt.board_by_owner b
         ON b.owner = c.owner AND b.lead_status = c.lead_status AND b.position <= 4
 WHERE c.owner = 'Sara Lie'
 ORDER BY 1
\crosstabview "#" col card col_order
\set ECHO none

\echo
\echo '== 3. Dashboard tiles =============================================================='
\echo
\set ECHO queries
SELECT status_name, visible, retained, total FROM lead_mgmt.status_counts;
SELECT category_group_name, companies, persons, leads, retained FROM lead_mgmt.category_group_counts WHERE companies > 0;
\set ECHO none

\echo
\echo '== 4. From the history =============================================================='
\echo 'Every change was recorded in its transaction, so these are exact:'
\echo
\set ECHO queries
SELECT variant, position, status_name, persons, step_conversion, cumulative_conversion
  FROM lead_mgmt.funnel WHERE position IS NOT NULL;
SELECT status_name, completed_stays, median_days, p90_days, open_stays FROM lead_mgmt.time_in_status;
UPDATE lead_mgmt.lead_status SET stale_after_days = 60 WHERE key = 'contacting';
SELECT status_name, leads, days_0_7, days_8_30, days_31_90, days_over_90, stale FROM lead_mgmt.aging;
SELECT to_char(period_start, 'YYYY-MM') AS month, sum(leads) AS new_leads
  FROM lead_mgmt.new_leads WHERE period = 'month' GROUP BY period_start ORDER BY period_start;
SELECT status_name, visible, retained FROM lead_mgmt.status_counts_at(now() - interval '60 days') WHERE total > 0;
\set ECHO none

\echo
\echo '== 5. Automation: a qualified lead makes the company an opportunity (A2) ============'
\echo
\set ECHO queries
INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('qualified', 'opportunity', true);
UPDATE crm.person SET lead_status = 'qualified' WHERE id = :hanne;
SELECT name, category FROM crm.company WHERE id = :fjordlys;
\set ECHO none

\echo
\echo '== 6. A saved selection: leads in Contacting for more than 60 days ================'
\echo
\set ECHO queries
INSERT INTO lead_mgmt.selection (name, criteria)
VALUES ('stale contacting', '{"lead_status": ["contacting"], "days_in_status_at_least": 60}');
SELECT count(*) AS persons FROM lead_mgmt.selection_members('stale contacting');
\set ECHO none

\echo
\echo '== 7. På norsk: SET lead_mgmt.language = nb ========================================'
\echo
\set ECHO queries
SET lead_mgmt.language = nb;
SELECT position, status_name, cards FROM lead_mgmt.board_columns;
SELECT status_name, visible, retained, total FROM lead_mgmt.status_counts;
\set ECHO none
