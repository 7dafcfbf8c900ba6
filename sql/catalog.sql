-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Catalog integrity: rules C1 and S1, key format and immutability, soft and
-- hard deletes, shipped rows, truncation, and the cache that the triggers
-- read (edited mid-session, used at once).
-- Each refused statement is followed by its SQLSTATE and a look at the rows
-- it would have changed.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

-- rule C1: enable_lead_status only in group potential_customer
UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'customer';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status)
VALUES ('friend', 'Friend', 'other', true);
\echo :LAST_ERROR_SQLSTATE
SELECT key, category_group, enable_lead_status FROM lead_mgmt.category
 WHERE key IN ('customer', 'friend') ORDER BY key;
-- allowed when the group changes in the same statement
UPDATE lead_mgmt.category SET category_group = 'potential_customer', enable_lead_status = true
 WHERE key = 'partner';
SELECT key, category_group, enable_lead_status, lead_mgmt.is_lead_enabled(key)
  FROM lead_mgmt.category WHERE key = 'partner';
-- leaving the group while lead status is on is refused as well
UPDATE lead_mgmt.category SET category_group = 'partner' WHERE key = 'partner';
\echo :LAST_ERROR_SQLSTATE
UPDATE lead_mgmt.category SET category_group = 'partner', enable_lead_status = false WHERE key = 'partner';

-- keys are lower-case identifiers
INSERT INTO lead_mgmt.category (key, name) VALUES ('Hot Lead', 'Hot lead');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('1st_call', 'First call');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows_added FROM lead_mgmt.category WHERE key = 'Hot Lead';

-- administrators add their own rows
INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status, rank)
VALUES ('webinar', 'Webinar sign-up', 'potential_customer', true, 7);
INSERT INTO lead_mgmt.lead_status (key, name, kind, rank, stale_after_days)
VALUES ('meeting_booked', 'Meeting booked', 'working', 6, 14);
SELECT key, kind, rank, is_default, shipped, stale_after_days
  FROM lead_mgmt.lead_status ORDER BY rank;

-- rule S1: exactly one default; making another the default moves the flag
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'contacting';
SELECT key FROM lead_mgmt.lead_status WHERE is_default;
-- the default cannot be unset directly ...
UPDATE lead_mgmt.lead_status SET is_default = false WHERE key = 'contacting';
\echo :LAST_ERROR_SQLSTATE
-- ... nor deleted, softly or hard
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'contacting';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM lead_mgmt.lead_status WHERE key = 'contacting';
\echo :LAST_ERROR_SQLSTATE
-- a deleted status cannot become the default
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'meeting_booked';
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'meeting_booked';
\echo :LAST_ERROR_SQLSTATE
-- a new status can arrive as the default
INSERT INTO lead_mgmt.lead_status (key, name, kind, rank, is_default)
VALUES ('new_lead', 'New', 'open', 0, true);
SELECT key, is_default, deleted FROM lead_mgmt.lead_status ORDER BY rank;
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open';
SELECT key FROM lead_mgmt.lead_status WHERE is_default;
-- the deferred check holds whatever bypasses the guard
BEGIN;
ALTER TABLE lead_mgmt.lead_status DISABLE TRIGGER lead_status_10_guard;
UPDATE lead_mgmt.lead_status SET is_default = false WHERE key = 'open';
SET CONSTRAINTS lead_mgmt.lead_status_single_default IMMEDIATE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT key FROM lead_mgmt.lead_status WHERE is_default;

-- soft delete and restore
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'renurture';
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'renurture';
SELECT key, deleted FROM lead_mgmt.lead_status WHERE key = 'renurture';

-- shipped rows: never hard-deleted, keys fixed, the flag is the extension's
DELETE FROM lead_mgmt.lead_status WHERE key = 'qualified';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM lead_mgmt.category WHERE key = 'mql';
\echo :LAST_ERROR_SQLSTATE
UPDATE lead_mgmt.category SET key = 'marketing_qualified' WHERE key = 'mql';
\echo :LAST_ERROR_SQLSTATE
UPDATE lead_mgmt.lead_status SET shipped = false WHERE key = 'qualified';
\echo :LAST_ERROR_SQLSTATE
SELECT key, shipped FROM lead_mgmt.lead_status WHERE key = 'qualified';
SELECT key FROM lead_mgmt.category WHERE key IN ('mql', 'marketing_qualified');
-- shipped rows stay editable otherwise
UPDATE lead_mgmt.category SET name = 'MQL', rank = 20, description = 'Marketing says yes'
 WHERE key = 'mql';
SELECT key, name, rank, description FROM lead_mgmt.category WHERE key = 'mql';
-- shipped labels too: editable, not removable, key fixed
UPDATE lead_mgmt.lead_status_label SET name = 'Ny' WHERE status = 'open' AND language = 'nb';
DELETE FROM lead_mgmt.lead_status_label WHERE status = 'open' AND language = 'nb';
\echo :LAST_ERROR_SQLSTATE
UPDATE lead_mgmt.lead_status_label SET language = 'nn' WHERE status = 'open' AND language = 'nb';
\echo :LAST_ERROR_SQLSTATE
SET lead_mgmt.language = 'nb';
SELECT lead_mgmt.status_name('open');
RESET lead_mgmt.language;
-- labels of one's own come and go
INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'sv', 'Öppen');
SET lead_mgmt.language = 'sv';
SELECT lead_mgmt.status_name('open'), lead_mgmt.status_name('contacting');
RESET lead_mgmt.language;
DELETE FROM lead_mgmt.lead_status_label WHERE language = 'sv';

-- rows of one's own can change key while unused, and be deleted
UPDATE lead_mgmt.category SET key = 'webinar_signup' WHERE key = 'webinar';
INSERT INTO lead_mgmt.category_label (category, language, name) VALUES ('webinar_signup', 'nb', 'Webinarpåmelding');
DELETE FROM lead_mgmt.category WHERE key = 'webinar_signup';
SELECT count(*) AS labels_left FROM lead_mgmt.category_label WHERE category = 'webinar_signup';
-- a status named by a transition rule is in use
INSERT INTO lead_mgmt.status_transition VALUES ('meeting_booked', 'qualified');
UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'meeting_booked';
UPDATE lead_mgmt.lead_status SET key = 'meeting' WHERE key = 'meeting_booked';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM lead_mgmt.lead_status WHERE key = 'meeting_booked';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM lead_mgmt.status_transition;
DELETE FROM lead_mgmt.lead_status WHERE key IN ('meeting_booked', 'new_lead');
SELECT key FROM lead_mgmt.lead_status ORDER BY rank;

-- catalogs are not truncated
TRUNCATE lead_mgmt.category_group_label;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE lead_mgmt.category CASCADE;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM lead_mgmt.category_group_label;

-- only lead_mgmt_admin writes the catalogs
DROP ROLE IF EXISTS lm_catalog_clerk;
DROP ROLE IF EXISTS lm_catalog_admin;
CREATE ROLE lm_catalog_clerk;
CREATE ROLE lm_catalog_admin IN ROLE lead_mgmt_admin;
SET ROLE lm_catalog_clerk;
SELECT count(*) FROM lead_mgmt.lead_status;
UPDATE lead_mgmt.lead_status SET name = 'Hello' WHERE key = 'open';
\echo :LAST_ERROR_SQLSTATE
SET ROLE lm_catalog_admin;
UPDATE lead_mgmt.lead_status SET description = 'Nobody has called yet' WHERE key = 'open';
RESET ROLE;
SELECT key, name, description FROM lead_mgmt.lead_status WHERE key = 'open';
DROP ROLE lm_catalog_clerk;
DROP ROLE lm_catalog_admin;

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
