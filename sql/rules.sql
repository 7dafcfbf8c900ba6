-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- The lead rules B1-B7 and S2 on a small CRM, one rule at a time.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company,
                         name text NOT NULL, title text);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person');
INSERT INTO crm.company (id, name, category) VALUES
    (1, 'Fjordkraft Leads', 'lead'),
    (2, 'Nordlys MQL', 'mql'),
    (3, 'Bergen Opportunity', 'opportunity'),
    (4, 'Oslo Customer', 'customer'),
    (5, 'Tromsø Partner', 'partner'),
    (6, 'Nameless', NULL);
-- what a user looks at: category, group, visible status, stored status
CREATE VIEW crm.lead_view AS
SELECT p.id, p.name, c.category, k.category_group,
       CASE WHEN lead_mgmt.is_lead_enabled(c.category) THEN p.lead_status END AS visible_status,
       p.lead_status AS stored_status
  FROM crm.person p
  LEFT JOIN crm.company c ON c.id = p.company_id
  LEFT JOIN lead_mgmt.category k ON k.key = c.category;

-- rule B1: a person under a lead-enabled company gets the default status;
-- elsewhere nothing
INSERT INTO crm.person (id, company_id, name) VALUES
    (1, 1, 'Ann'), (2, 2, 'Bob'), (3, 3, 'Cid'), (4, 4, 'Dag'), (5, 5, 'Eli'),
    (6, 6, 'Finn'), (7, NULL, 'Gro');
SELECT * FROM crm.lead_view ORDER BY id;
-- an explicit status on insert is kept when visible
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (8, 1, 'Hans', 'contacting');
SELECT id, lead_status FROM crm.person WHERE id = 8;

-- rule B4: each person has their own status
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1;
SELECT id, company_id, lead_status FROM crm.person WHERE company_id = 1 ORDER BY id;

-- rule B5: a status is set only while visible
UPDATE crm.person SET lead_status = 'open' WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (9, 4, 'Ida', 'open');
\echo :LAST_ERROR_SQLSTATE
UPDATE crm.person SET lead_status = 'open' WHERE id = 7;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (9, NULL, 'Ida', 'open');
\echo :LAST_ERROR_SQLSTATE
SELECT id, lead_status FROM crm.person WHERE id IN (4, 7, 9) ORDER BY id;
-- other columns of such persons stay freely updatable
UPDATE crm.person SET title = 'CFO', name = 'Dag Olsen' WHERE id = 4;
UPDATE crm.person SET title = 'Freelancer' WHERE id = 7;
-- naming the status column with its own value is not a change
UPDATE crm.person SET lead_status = lead_status, title = 'CEO' WHERE id = 4;
SELECT id, name, title, lead_status FROM crm.person WHERE id IN (4, 7) ORDER BY id;
-- a visible status cannot be emptied
UPDATE crm.person SET lead_status = NULL WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
-- unknown statuses
UPDATE crm.person SET lead_status = 'hot' WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
SELECT id, lead_status FROM crm.person WHERE id = 2;

-- rule B6: a deleted status is not newly set; holders keep it
UPDATE crm.person SET lead_status = 'renurture' WHERE id = 2;
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'renurture';
UPDATE crm.person SET lead_status = 'renurture' WHERE id = 8;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (10, 2, 'Jon', 'renurture');
\echo :LAST_ERROR_SQLSTATE
SELECT id, lead_status FROM crm.person WHERE id IN (2, 8, 10) ORDER BY id;
UPDATE crm.person SET title = 'Head of IT' WHERE id = 2;
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'renurture';
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2;

-- rule S2: no rules, every move allowed; with rules, only the listed ones
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 8;
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 8;
INSERT INTO lead_mgmt.status_transition VALUES
    ('contacting', 'qualified'), ('contacting', 'disqualified');
UPDATE crm.person SET lead_status = 'open' WHERE id = 8;
\echo :LAST_ERROR_SQLSTATE
SELECT id, lead_status FROM crm.person WHERE id = 8;
UPDATE crm.person SET lead_status = 'disqualified' WHERE id = 8;
-- statuses without rules still move freely
UPDATE crm.person SET lead_status = 'renurture' WHERE id = 8;
DELETE FROM lead_mgmt.status_transition;

-- rule B3: the company stops being lead-enabled; values are kept, hidden
UPDATE crm.company SET category = 'customer' WHERE id = 1;
SELECT * FROM crm.lead_view WHERE id IN (1, 8) ORDER BY id;
UPDATE crm.person SET lead_status = 'open' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE

-- rule B2, policy reset (default): visible again means Open again
UPDATE crm.company SET category = 'mql' WHERE id = 1;
SELECT * FROM crm.lead_view WHERE id IN (1, 8) ORDER BY id;
-- moving between two lead-enabled categories changes nothing
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1;
UPDATE crm.company SET category = 'lead' WHERE id = 1;
SELECT id, lead_status FROM crm.person WHERE id IN (1, 8) ORDER BY id;

-- rule B2, policy restore: a retained value comes back, empty ones get Open
SET lead_mgmt.reentry = restore;
UPDATE crm.company SET category = 'opportunity' WHERE id = 1;
INSERT INTO crm.person (id, company_id, name) VALUES (11, 1, 'Kari');
UPDATE crm.company SET category = 'lead' WHERE id = 1;
SELECT id, lead_status FROM crm.person WHERE company_id = 1 ORDER BY id;
RESET lead_mgmt.reentry;

-- rule B2 by moving a person: into a lead-enabled company from one that is
-- not, or from no company
UPDATE crm.person SET company_id = 2 WHERE id = 4;
UPDATE crm.person SET company_id = 2 WHERE id = 7;
SELECT id, company_id, lead_status FROM crm.person WHERE id IN (4, 7) ORDER BY id;
-- between lead-enabled companies nothing changes
UPDATE crm.person SET lead_status = 'contacting' WHERE id = 4;
UPDATE crm.person SET company_id = 1 WHERE id = 4;
SELECT id, company_id, lead_status FROM crm.person WHERE id = 4;
-- out of a lead-enabled company (rule B3): kept, hidden
UPDATE crm.person SET company_id = 5 WHERE id = 4;
UPDATE crm.person SET company_id = NULL WHERE id = 7;
SELECT * FROM crm.lead_view WHERE id IN (4, 7) ORDER BY id;
-- under restore, moving back brings the retained value
SET lead_mgmt.reentry = restore;
UPDATE crm.person SET company_id = 2 WHERE id = 4;
SELECT id, lead_status FROM crm.person WHERE id = 4;
RESET lead_mgmt.reentry;
-- a move and a status in one statement: valid at the destination
UPDATE crm.person SET company_id = 1, lead_status = 'qualified' WHERE id = 5;
UPDATE crm.person SET company_id = 4, lead_status = 'open' WHERE id = 6;
\echo :LAST_ERROR_SQLSTATE
SELECT id, company_id, lead_status FROM crm.person WHERE id IN (5, 6) ORDER BY id;

-- rule B2 by an administrator: a category becomes lead-enabled
SELECT id, lead_status FROM crm.person WHERE company_id = 3;
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'opportunity';
SELECT id, lead_status FROM crm.person WHERE company_id = 3;
-- ... and by a change of group
INSERT INTO crm.person (id, company_id, name) VALUES (13, 5, 'Mia');
SELECT id, company_id, lead_status FROM crm.person WHERE company_id = 5 ORDER BY id;
UPDATE lead_mgmt.category SET category_group = 'potential_customer', enable_lead_status = true
 WHERE key = 'partner';
SELECT id, company_id, lead_status FROM crm.person WHERE company_id = 5 ORDER BY id;
-- turning it off hides and keeps (rule B3)
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
SELECT * FROM crm.lead_view WHERE id = 3;
UPDATE lead_mgmt.category SET category_group = 'partner', enable_lead_status = false WHERE key = 'partner';

-- rule B7: persons have no category of their own; they inherit it
SELECT count(*) AS person_category_columns FROM pg_attribute
 WHERE attrelid = 'crm.person'::regclass AND attname = 'category';
SELECT p.id, c.category FROM crm.person p JOIN crm.company c ON c.id = p.company_id
 WHERE p.id = 3;

-- a deleted category is not newly given to a company; holders keep it
UPDATE lead_mgmt.category SET deleted = true WHERE key = 'mql';
UPDATE crm.company SET category = 'mql' WHERE id = 6;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO crm.company (id, name, category) VALUES (7, 'Late MQL', 'mql');
\echo :LAST_ERROR_SQLSTATE
UPDATE crm.company SET name = 'Nordlys MQL AS' WHERE id = 2;
INSERT INTO crm.person (id, company_id, name) VALUES (12, 2, 'Liv');
SELECT id, lead_status FROM crm.person WHERE id = 12;
UPDATE lead_mgmt.category SET deleted = false WHERE key = 'mql';
UPDATE crm.company SET category = 'webshop' WHERE id = 6;
\echo :LAST_ERROR_SQLSTATE

-- an INSERT of a row marked shipped merges into the shipped row (as a
-- restore does) and applies the rules an UPDATE would: here opportunity
-- becomes lead-enabled (rule B2)
SET lead_mgmt.enforce = off;
UPDATE crm.person SET lead_status = 'qualified' WHERE id = 3;
RESET lead_mgmt.enforce;
INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status, rank, shipped)
VALUES ('opportunity', 'Opportunity', 'potential_customer', true, 3, true);
SELECT key, enable_lead_status, shipped FROM lead_mgmt.category WHERE key = 'opportunity';
SELECT id, lead_status FROM crm.person WHERE company_id = 3;
UPDATE lead_mgmt.category SET enable_lead_status = false WHERE key = 'opportunity';
-- a row that does not ship with lead_mgmt is an ordinary row
INSERT INTO lead_mgmt.category (key, name, shipped) VALUES ('fair', 'Trade fair', true);
SELECT key, shipped FROM lead_mgmt.category WHERE key = 'fair';
DELETE FROM lead_mgmt.category WHERE key = 'fair';

-- unmanage() in the transaction that edited a status
BEGIN;
UPDATE lead_mgmt.lead_status SET name = 'Re-nurture later' WHERE key = 'renurture';
SELECT lead_mgmt.unmanage();
SELECT count(*) AS registrations FROM lead_mgmt.registration;
ROLLBACK;

-- the whole picture
SELECT * FROM crm.lead_view ORDER BY id;

SELECT lead_mgmt.unmanage();
DROP SCHEMA crm CASCADE;
-- status history outlives unmanage() and refuses DROP EXTENSION; drop it first
SET client_min_messages = warning;
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_catalog.pg_tables
              WHERE schemaname = 'lead_mgmt' AND tablename LIKE 'status\_history%' LOOP
        EXECUTE pg_catalog.format('DROP TABLE lead_mgmt.%I', t);
    END LOOP;
END
$$;
DROP EXTENSION lead_mgmt;
