-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Walkthrough of lead_mgmt on the demo CRM (scripts/demo-data.sql): the lead
-- lifecycle, rule by rule (B1-B6), then the person list and the counts a
-- user looks at.
--
-- Run with psql -X against the demo database.  Each statement that is meant
-- to fail is wrapped in \set ON_ERROR_STOP 0 ... 1; everything else must
-- succeed.
--
\set ON_ERROR_STOP 1
\set QUIET on
\set VERBOSITY default
\set SHOW_CONTEXT never
\pset null '(null)'
\pset footer off

-- the persons of one company, as the person list shows them
\set persons_of 'SELECT person_id AS id, person, title, category_name AS category, visible, lead_status, retained_status AS stored_value FROM crm.person_list WHERE company_id ='

\echo
\echo '------------------------------------------------------------------------------'
\echo ' 1. A new person under a Lead company gets the status Open            rule B1'
\echo '------------------------------------------------------------------------------'
\echo 'A web form brings in Fjordlys Solkraft AS as a Lead, and two contacts.'
\echo 'The INSERTs name no lead status; the database sets the default, Open.'
\echo

INSERT INTO crm.company (name, org_number, city, industry, owner, category)
VALUES ('Fjordlys Solkraft AS', '931055720', 'Bergen', 'Energy', 'Sara Lie', 'lead')
RETURNING id AS fjordlys \gset

INSERT INTO crm.person (company_id, first_name, last_name, email, title, owner)
VALUES (:fjordlys, 'Hanne', 'Vik', 'hanne.vik@fjordlys.no', 'Daglig leder', 'Sara Lie')
RETURNING id AS hanne \gset

INSERT INTO crm.person (company_id, first_name, last_name, email, title, owner)
VALUES (:fjordlys, 'Eirik', 'Brekke', 'eirik.brekke@fjordlys.no', 'Innkjøpsansvarlig', 'Sara Lie')
RETURNING id AS eirik \gset

:persons_of :fjordlys ORDER BY id;

\echo '------------------------------------------------------------------------------'
\echo ' 2. Sales works the lead, one person at a time                        rule B4'
\echo '------------------------------------------------------------------------------'
\echo 'Sara calls Hanne (Contacting), and after a meeting marks her Qualified.'
\echo 'Eirik has not answered yet: each person has a status of their own.'
\echo

UPDATE crm.person SET lead_status = 'contacting' WHERE id = :hanne;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = :hanne;
UPDATE crm.person SET lead_status = 'contacting' WHERE id = :eirik;

:persons_of :fjordlys ORDER BY id;

\echo '------------------------------------------------------------------------------'
\echo ' 3. The company becomes a Customer: the status is hidden, not lost     rule B3'
\echo '------------------------------------------------------------------------------'
\echo 'Fjordlys signs.  Customer is not a potential-customer category, so the'
\echo 'lead status is no longer shown (lead_status is NULL, visible is false) ...'
\echo

UPDATE crm.company SET category = 'customer' WHERE id = :fjordlys;

:persons_of :fjordlys ORDER BY id;

\echo '... but crm.person still holds the value, for search and dashboards:'
\echo

SELECT id, full_name, lead_status FROM crm.person WHERE company_id = :fjordlys ORDER BY id;

\echo '------------------------------------------------------------------------------'
\echo ' 4. A hidden status cannot be set; other columns can be changed        rule B5'
\echo '------------------------------------------------------------------------------'
\echo 'Sara tries to move Hanne back to Contacting.  The database refuses:'
\echo

\set ON_ERROR_STOP 0
UPDATE crm.person SET lead_status = 'contacting' WHERE id = :hanne;
\set ON_ERROR_STOP 1
\echo 'SQLSTATE:' :LAST_ERROR_SQLSTATE
\echo
\echo 'Hanne joins the board; her title is updated as usual:'
\echo

UPDATE crm.person SET title = 'Styreleder' WHERE id = :hanne
RETURNING id, full_name, title, lead_status AS stored_value;

\echo '------------------------------------------------------------------------------'
\echo ' 5. Back to a potential-customer category: Open again                  rule B2'
\echo '------------------------------------------------------------------------------'
\echo 'A year later marketing qualifies Fjordlys for a new product: category MQL.'
\echo 'Under the default policy (lead_mgmt.reentry = reset) every contact'
\echo 'starts again at Open.'
\echo

SHOW lead_mgmt.reentry;
UPDATE crm.company SET category = 'mql' WHERE id = :fjordlys;

:persons_of :fjordlys ORDER BY id;

SELECT c.id AS revived, c.name AS revived_name
  FROM crm.company c JOIN crm.person p ON p.company_id = c.id
 WHERE c.category = 'lost_opportunity'
 GROUP BY c.id
HAVING count(*) = 5
 ORDER BY c.id
 LIMIT 1 \gset

INSERT INTO crm.person (company_id, first_name, last_name, email, title, owner)
SELECT c.id, 'Marte', 'Kleven',
       'marte.kleven@' || (SELECT split_part(min(p.email), '@', 2) FROM crm.person p WHERE p.company_id = c.id),
       'Salgssjef', 'Sara Lie'
  FROM crm.company c WHERE c.id = :revived;

\echo 'With lead_mgmt.reentry = restore, retained statuses come back instead,'
\echo 'and only persons without one get Open.  Take' :revived_name', a lost'
\echo 'opportunity of the data set; Marte Kleven joined after the deal was lost,'
\echo 'so she has no status:'
\echo

:persons_of :revived ORDER BY id;

\echo 'The company is revived as a Lead, under reentry = restore:'
\echo

SET lead_mgmt.reentry = restore;
UPDATE crm.company SET category = 'lead' WHERE id = :revived;
RESET lead_mgmt.reentry;

:persons_of :revived ORDER BY id;

\echo '------------------------------------------------------------------------------'
\echo ' 6. An administrator retires a status                                 rule B6'
\echo '------------------------------------------------------------------------------'
\echo 'The administrator retires Re-nurture.  Who holds it now:'
\echo

-- who holds Re-nurture, visible and retained
\set renurture_holders 'SELECT s.key, s.deleted, count(l.person_id) FILTER (WHERE l.visible) AS persons_visible, count(l.person_id) FILTER (WHERE NOT l.visible) AS persons_retained FROM lead_mgmt.lead_status s LEFT JOIN crm.person_list l ON l.retained_status = s.key WHERE s.key = ''renurture'' GROUP BY s.key, s.deleted;'

:renurture_holders

\echo 'As lead_mgmt_admin: deleted = true.  Persons who hold it keep it:'
\echo

SET ROLE lead_mgmt_admin;
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'renurture';
RESET ROLE;

:renurture_holders

\echo 'but nobody can be newly given it:'
\echo

\set ON_ERROR_STOP 0
UPDATE crm.person SET lead_status = 'renurture' WHERE id = :eirik;
\set ON_ERROR_STOP 1
\echo 'SQLSTATE:' :LAST_ERROR_SQLSTATE
\echo
\echo 'The administrator restores it (deleted = false); now it can be set again:'
\echo

SET ROLE lead_mgmt_admin;
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'renurture';
RESET ROLE;
UPDATE crm.person SET lead_status = 'renurture' WHERE id = :eirik
RETURNING id, full_name, lead_status;

\echo '------------------------------------------------------------------------------'
\echo ' 7. Norwegian labels: SET lead_mgmt.language = ''nb'''
\echo '------------------------------------------------------------------------------'
\echo 'Keys stay the same; names follow the session language (English fallback).'
\echo

SET lead_mgmt.language = 'nb';

SELECT s.key, s.name AS english, lead_mgmt.status_name(s.key) AS norsk,
       lead_mgmt.status_description(s.key) AS beskrivelse
  FROM lead_mgmt.lead_status s
 ORDER BY s.rank;

SELECT c.key, c.name AS english, lead_mgmt.category_name(c.key) AS norsk,
       lead_mgmt.category_group_name(c.category_group) AS kategorigruppe,
       lead_mgmt.is_lead_enabled(c.key) AS leadstatus_aktivert
  FROM lead_mgmt.category c
 ORDER BY c.rank;

SELECT person AS "Person", company AS "Firma", category_name AS "Kategori",
       category_group_name AS "Kategorigruppe", lead_status_name AS "Leadstatus"
  FROM crm.person_list
 WHERE company_id IN (:fjordlys, :revived)
 ORDER BY company_id, person_id;

RESET lead_mgmt.language;

\echo '------------------------------------------------------------------------------'
\echo ' 8. What a user looks at'
\echo '------------------------------------------------------------------------------'
\echo 'Sara Lie''s person list, newest contacts first.  Lead status is shown only'
\echo 'for potential customers with lead status enabled; the retained column is'
\echo 'the stored value, which search and dashboards still see.'
\echo

SELECT l.person, l.company, l.category_name AS category,
       l.category_group_name AS category_group,
       l.lead_status_name AS lead_status, l.retained_status_name AS retained_status
  FROM crm.person_list l
  JOIN crm.person p ON p.id = l.person_id
 WHERE l.owner = 'Sara Lie'
 ORDER BY p.created_at DESC, p.id DESC
 LIMIT 15;

\echo 'Persons per lead status: visible (editable) and retained (hidden).'
\echo

SELECT lead_mgmt.status_name(s.key) AS lead_status, s.kind,
       count(l.person_id) FILTER (WHERE l.visible) AS visible,
       count(l.person_id) FILTER (WHERE NOT l.visible) AS retained,
       count(l.person_id) AS total
  FROM lead_mgmt.lead_status s
  LEFT JOIN crm.person_list l ON l.retained_status = s.key
 GROUP BY s.key, s.kind, s.rank
 ORDER BY s.rank;

\echo 'Companies and persons per category group and category.'
\echo

SELECT coalesce(lead_mgmt.category_group_name(k.category_group), '(no category)') AS category_group,
       count(DISTINCT c.id) AS companies,
       count(p.id) AS persons,
       count(p.lead_status) FILTER (WHERE lead_mgmt.is_lead_enabled(c.category)) AS visible_status,
       count(p.lead_status) FILTER (WHERE NOT lead_mgmt.is_lead_enabled(c.category)) AS retained_status,
       count(p.id) FILTER (WHERE p.lead_status IS NULL) AS no_status
  FROM crm.company c
  LEFT JOIN lead_mgmt.category k ON k.key = c.category
  LEFT JOIN crm.person p ON p.company_id = c.id
 GROUP BY k.category_group
 ORDER BY k.category_group NULLS LAST;

SELECT coalesce(lead_mgmt.category_name(c.category), '(no category)') AS category,
       lead_mgmt.is_lead_enabled(c.category) AS lead_status_enabled,
       count(DISTINCT c.id) AS companies,
       count(p.id) AS persons,
       count(p.lead_status) FILTER (WHERE lead_mgmt.is_lead_enabled(c.category)) AS visible_status,
       count(p.lead_status) FILTER (WHERE NOT lead_mgmt.is_lead_enabled(c.category)) AS retained_status
  FROM crm.company c
  LEFT JOIN lead_mgmt.category k ON k.key = c.category
  LEFT JOIN crm.person p ON p.company_id = c.id
 GROUP BY c.category, k.rank
 ORDER BY k.rank NULLS LAST;

\echo 'The rules hold on the whole data set: every person of a lead-enabled'
\echo 'company has a lead status.'
\echo

SELECT count(*) FILTER (WHERE visible) AS persons_with_visible_status,
       count(*) FILTER (WHERE visible AND lead_status IS NULL) AS of_which_without_status
  FROM crm.person_list;

\echo
\echo 'What a user looks at: the views manage() created.  The board, column'
\echo 'by column (lead_mgmt.board_columns), as a BI tool would show it:'
\echo

SELECT position, lead_status, status_name, cards FROM lead_mgmt.board_columns ORDER BY position;

\echo 'The first cards of each column (lead_mgmt.board; 1 = longest in status):'
\echo

SELECT lead_status, position, person_id, company_id, label, owner, days_in_status
  FROM lead_mgmt.board WHERE position <= 2 ORDER BY lead_status, position;

\echo 'Dashboard tiles: persons per status, shown and retained (lead_mgmt.status_counts),'
\echo 'and per category group (lead_mgmt.category_group_counts):'
\echo

SELECT lead_status, status_name, visible, retained, total FROM lead_mgmt.status_counts;
SELECT category_group, category_group_name, companies, persons, leads, retained
  FROM lead_mgmt.category_group_counts;

\echo 'The same in Norwegian: SET lead_mgmt.language = nb'
\echo

SET lead_mgmt.language = nb;
SELECT position, status_name, cards FROM lead_mgmt.board_columns ORDER BY position;
RESET lead_mgmt.language;

\echo 'A saved selection: leads still open, evaluated at every call'
\echo

INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('open leads', '{"lead_status": ["open"]}')
    ON CONFLICT (name) DO NOTHING;
SELECT count(*) AS open_leads FROM lead_mgmt.selection_members('open leads');
