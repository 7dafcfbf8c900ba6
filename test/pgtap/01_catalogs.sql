-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Catalogs of lead_mgmt: shipped rows, labels, and the integrity rules C1
-- and S1, key format and immutability, soft and hard deletes, protection of
-- shipped rows, TRUNCATE and privileges.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION lead_mgmt;

SELECT plan(137);

-- Every catalog row as text: "nothing changed" compares two of these.
CREATE FUNCTION pg_temp.catalogs() RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(E'\n',
        (SELECT string_agg(c::text, ' ' ORDER BY c.key) FROM lead_mgmt.category c),
        (SELECT string_agg(s::text, ' ' ORDER BY s.key) FROM lead_mgmt.lead_status s),
        (SELECT string_agg(t::text, ' ' ORDER BY t.from_status, t.to_status) FROM lead_mgmt.status_transition t),
        (SELECT string_agg(l::text, ' ' ORDER BY l.category, l.language) FROM lead_mgmt.category_label l),
        (SELECT string_agg(l::text, ' ' ORDER BY l.status, l.language) FROM lead_mgmt.lead_status_label l),
        (SELECT string_agg(l::text, ' ' ORDER BY l.category_group, l.language) FROM lead_mgmt.category_group_label l))
$$;

------------------------------------------------------------------------------
-- Shipped rows
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT key, name, description, kind::text, rank, is_default, deleted, shipped
        FROM lead_mgmt.lead_status ORDER BY rank$$,
    $$VALUES ('open', 'Open', 'No sales contact has been made yet', 'open', 1, true, false, true),
             ('contacting', 'Contacting', 'Sales is actively trying to reach the lead', 'working', 2, false, false, true),
             ('disqualified', 'Disqualified', 'The lead does not meet our criteria', 'disqualified', 3, false, false, true),
             ('renurture', 'Re-nurture', 'Not ready now, may become relevant later', 'nurture', 4, false, false, true),
             ('qualified', 'Qualified', 'Meets every requirement to move on in the sales process', 'qualified', 5, false, false, true)$$,
    'shipped lead statuses: keys, English labels and tooltips, kinds, ranks, Open the default');

SELECT results_eq(
    $$SELECT key, name, category_group::text, enable_lead_status, deleted, shipped
        FROM lead_mgmt.category ORDER BY rank$$,
    $$VALUES ('lead', 'Lead', 'potential_customer', true, false, true),
             ('mql', 'Marketing qualified lead (MQL)', 'potential_customer', true, false, true),
             ('opportunity', 'Opportunity', 'potential_customer', false, false, true),
             ('lost_opportunity', 'Lost opportunity', 'potential_customer', false, false, true),
             ('customer', 'Customer', 'customer', false, false, true),
             ('partner', 'Partner', 'partner', false, false, true)$$,
    'shipped categories: keys, English names, groups, lead status on for lead and mql only');

SELECT is_empty('SELECT * FROM lead_mgmt.status_transition',
    'rule S2: no transition rules ship, every move is allowed by default');
SELECT is_empty('SELECT * FROM lead_mgmt.registration', 'nothing is managed after CREATE EXTENSION');
SELECT enum_has_labels('lead_mgmt', 'category_group',
    ARRAY['unknown', 'customer', 'potential_customer', 'partner', 'lost', 'other'],
    'category groups are the six fixed ones');
SELECT enum_has_labels('lead_mgmt', 'status_kind',
    ARRAY['open', 'working', 'nurture', 'qualified', 'disqualified'],
    'status kinds are the five fixed ones');
SELECT has_role('lead_mgmt_admin', 'role lead_mgmt_admin exists');

------------------------------------------------------------------------------
-- Labels in the session's language
------------------------------------------------------------------------------

SELECT is(current_setting('lead_mgmt.language'), 'en', 'lead_mgmt.language defaults to en');
SELECT results_eq(
    $$SELECT lead_mgmt.status_name(key) FROM lead_mgmt.lead_status ORDER BY rank$$,
    ARRAY['Open', 'Contacting', 'Disqualified', 'Re-nurture', 'Qualified'],
    'status names in English');
SELECT is(lead_mgmt.status_description('renurture'), 'Not ready now, may become relevant later',
    'status tooltip in English');
SELECT is(lead_mgmt.category_name('mql'), 'Marketing qualified lead (MQL)', 'category name in English');
SELECT is(lead_mgmt.category_description('customer'), 'A company that buys from us', 'category tooltip in English');
SELECT is(lead_mgmt.category_group_name('potential_customer'), 'Potential customer', 'category group name in English');

SET lead_mgmt.language = 'nb';
SELECT results_eq(
    $$SELECT lead_mgmt.status_name(key) FROM lead_mgmt.lead_status ORDER BY rank$$,
    ARRAY['Åpen', 'Kontakter', 'Diskvalifisert', 'Varmes opp igjen', 'Kvalifisert'],
    'status names in Norwegian Bokmål');
SELECT is(lead_mgmt.status_description('open'), 'Ingen salgskontakt er gjort ennå.', 'status tooltip in Norwegian');
SELECT results_eq(
    $$SELECT lead_mgmt.category_name(key) FROM lead_mgmt.category ORDER BY rank$$,
    ARRAY['Lead', 'Markedsføringskvalifisert lead (MQL)', 'Mulighet', 'Tapt mulighet', 'Kunde', 'Partner'],
    'category names in Norwegian Bokmål');
SELECT is(lead_mgmt.category_description('opportunity'), 'Aktiv salgsprosess.', 'category tooltip in Norwegian');
SELECT results_eq(
    $$SELECT lead_mgmt.category_group_name(g) FROM unnest(enum_range(NULL::lead_mgmt.category_group)) g$$,
    ARRAY['Ukjent', 'Kunde', 'Potensiell kunde', 'Partner', 'Tapt', 'Annet'],
    'category group names in Norwegian Bokmål');

-- a prepared statement follows the setting at execution time
SET lead_mgmt.language = 'en';
PREPARE status_label AS SELECT lead_mgmt.status_name('qualified');
SELECT results_eq('EXECUTE status_label', ARRAY['Qualified'], 'prepared label query in English');
SET lead_mgmt.language = 'nb';
SELECT results_eq('EXECUTE status_label', ARRAY['Kvalifisert'], 'same prepared label query follows lead_mgmt.language = nb');
DEALLOCATE status_label;

SELECT throws_ok($$SET lead_mgmt.language = 'de'$$, '22023',
    'invalid value for parameter "lead_mgmt.language": "de"',
    'a language without any labels is refused once the library is loaded');
SELECT is(current_setting('lead_mgmt.language'), 'nb', 'the refused language leaves the setting as it was');
SET lead_mgmt.language = 'no';
SELECT is(lead_mgmt.status_name('contacting'), 'Kontakter', 'no (a common code for Norwegian) reads as Bokmål');
SELECT is(lead_mgmt.current_language(), 'nb', 'current_language() says nb for no');
INSERT INTO lead_mgmt.category_label (category, language, name) VALUES ('lead', 'de', 'Interessent');
SET lead_mgmt.language = 'de';
SELECT is(lead_mgmt.status_name('contacting'), 'Contacting', 'a language with some labels falls back to English for the others');
SELECT is(lead_mgmt.category_group_name('lost'), 'Lost', 'category groups fall back to English');
SELECT throws_ok($$SET lead_mgmt.language = 'Norsk bokmål'$$, '22023', NULL,
    'lead_mgmt.language refuses a value that is not a language tag');
SELECT is(current_setting('lead_mgmt.language'), 'de', 'refused language leaves the setting as it was');
RESET lead_mgmt.language;
DELETE FROM lead_mgmt.category_label WHERE language = 'de';
SELECT is(lead_mgmt.status_name(NULL), NULL, 'status_name(NULL) is NULL');
SELECT throws_ok($$SELECT lead_mgmt.status_name('nope')$$, '23503', 'lead status "nope" does not exist',
    'status_name() of an unknown key is an error');
SELECT throws_ok($$SELECT lead_mgmt.category_name('nope')$$, '23503', 'category "nope" does not exist',
    'category_name() of an unknown key is an error');
SELECT throws_ok($$SELECT lead_mgmt.status_description('nope')$$, '23503', NULL,
    'status_description() of an unknown key is an error');

-- a label of one's own for another language
INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('open', 'de', 'Offen');
SET lead_mgmt.language = 'de';
SELECT is(lead_mgmt.status_name('open'), 'Offen', 'an added label is used for its language');
RESET lead_mgmt.language;
SELECT is(lead_mgmt.status_name('open'), 'Open', 'and English stays the base name');

-- is_lead_enabled
SELECT results_eq(
    $$SELECT key, lead_mgmt.is_lead_enabled(key) FROM lead_mgmt.category ORDER BY rank$$,
    $$VALUES ('lead', true), ('mql', true), ('opportunity', false), ('lost_opportunity', false),
             ('customer', false), ('partner', false)$$,
    'is_lead_enabled: potential_customer with the flag on');
SELECT is(lead_mgmt.is_lead_enabled('no_such_category'), false, 'is_lead_enabled of an unknown key is false');

------------------------------------------------------------------------------
-- A managed pair, so that catalog rows can be in use
------------------------------------------------------------------------------

CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text NOT NULL);
CREATE INDEX ON crm.person (company_id);
SELECT lives_ok($$SELECT lead_mgmt.manage('crm.company', 'crm.person')$$, 'fixture: manage crm.company and crm.person');

------------------------------------------------------------------------------
-- C1: enable_lead_status only in group potential_customer
------------------------------------------------------------------------------

SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$UPDATE lead_mgmt.category SET enable_lead_status = true WHERE key = 'customer'$$,
    '23L05', NULL, 'rule C1: lead status cannot be enabled on a customer category');
SELECT throws_ok($$INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status)
                   VALUES ('reseller', 'Reseller', 'partner', true)$$,
    '23L05', NULL, 'rule C1: a new partner category cannot enable lead status');
SELECT throws_ok($$UPDATE lead_mgmt.category SET category_group = 'lost' WHERE key = 'lead'$$,
    '23L05', NULL, 'rule C1: a lead-enabled category cannot leave potential_customer with the flag on');
SELECT is(pg_temp.catalogs(), :'before', 'rule C1: refused changes leave the catalogs unchanged');

SELECT lives_ok($$INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status, rank)
                  VALUES ('trial', 'Trial', 'potential_customer', true, 7)$$,
    'rule C1: a new potential_customer category may enable lead status');
SELECT lives_ok($$UPDATE lead_mgmt.category SET category_group = 'lost', enable_lead_status = false
                   WHERE key = 'trial'$$,
    'rule C1: group and flag change together');
SELECT results_eq($$SELECT category_group::text, enable_lead_status FROM lead_mgmt.category WHERE key = 'trial'$$,
    $$VALUES ('lost', false)$$, 'rule C1: the combined change is stored');

------------------------------------------------------------------------------
-- S1: exactly one default status
------------------------------------------------------------------------------

SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'contacting'$$,
    'rule S1: another status can be made the default');
SELECT results_eq($$SELECT key FROM lead_mgmt.lead_status WHERE is_default$$, ARRAY['contacting'],
    'rule S1: the default flag moved (one default)');
SELECT lives_ok($$INSERT INTO lead_mgmt.lead_status (key, name, kind, rank, is_default)
                  VALUES ('meeting', 'Meeting booked', 'working', 6, true)$$,
    'rule S1: a new status can be inserted as the default');
SELECT results_eq($$SELECT key FROM lead_mgmt.lead_status WHERE is_default$$, ARRAY['meeting'],
    'rule S1: inserting a default moves the flag');

SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'meeting'$$,
    '23L06', NULL, 'rule S1: the default status cannot be deleted');
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET is_default = false WHERE key = 'meeting'$$,
    '23L06', NULL, 'rule S1: the default flag cannot be unset');
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'meeting'$$,
    '23L06', NULL, 'rule S1: the default status cannot be soft-deleted');
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'renurture';
                   UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'renurture'$$,
    '23L06', NULL, 'rule S1: a status made the default cannot be soft-deleted in the same breath');
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name, is_default, deleted)
                   VALUES ('zombie', 'Zombie', true, true)$$,
    '23L06', NULL, 'rule S1: a deleted status cannot become the default');
SELECT is(pg_temp.catalogs(), :'before', 'rule S1: refused changes leave the catalogs unchanged');

SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open'$$,
    'rule S1: the flag moves back to open');
SELECT results_eq($$SELECT key FROM lead_mgmt.lead_status WHERE is_default$$, ARRAY['open'],
    'rule S1: open is the only default again');

-- The deferred check at commit, with the guard out of the way.
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
ALTER TABLE lead_mgmt.lead_status DISABLE TRIGGER lead_status_10_guard;
SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET is_default = false WHERE key = 'open'$$,
    'rule S1: with the guard disabled, removing the default passes the statement (the check is deferred)');
SELECT throws_ok('SET CONSTRAINTS ALL IMMEDIATE', '23L06', NULL,
    'rule S1: the deferred check refuses a catalog without a default');
SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open'$$,
    'rule S1: restoring the default');
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE', 'rule S1: the deferred check accepts exactly one default');
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET is_default = false WHERE key = 'open'$$,
    '23L06', NULL, 'rule S1: with the check immediate, a statement leaving no default is refused');
SELECT results_eq($$SELECT key FROM lead_mgmt.lead_status WHERE is_default$$, ARRAY['open'],
    'rule S1: open is still the default');
-- (keeps the rest of this file meaningful should the check above fail)
SET CONSTRAINTS ALL DEFERRED;
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'open' AND NOT is_default;
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
ALTER TABLE lead_mgmt.lead_status ENABLE TRIGGER lead_status_10_guard;

------------------------------------------------------------------------------
-- Key format
------------------------------------------------------------------------------

SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('Hot', 'Hot')$$,
    '22023', NULL, 'status key: upper case is refused');
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('1st_call', 'First call')$$,
    '22023', NULL, 'status key: a leading digit is refused');
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('call-back', 'Call back')$$,
    '22023', NULL, 'status key: a hyphen is refused');
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('', 'Empty')$$,
    '22023', NULL, 'status key: the empty key is refused');
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('møte', 'Møte')$$,
    '22023', NULL, 'status key: non-ASCII letters are refused');
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES (repeat('a', 64), 'Long')$$,
    '22023', NULL, 'status key: 64 bytes is too long');
SELECT throws_ok($$INSERT INTO lead_mgmt.category (key, name) VALUES ('Key Account', 'Key account')$$,
    '22023', NULL, 'category key: spaces and upper case are refused');
SELECT throws_ok($$INSERT INTO lead_mgmt.category (key, name) VALUES ('_vip', 'VIP')$$,
    '22023', NULL, 'category key: a leading underscore is refused');
SELECT throws_ok($$UPDATE lead_mgmt.category SET key = 'Trial' WHERE key = 'trial'$$,
    '22023', NULL, 'category key: an update to a malformed key is refused');
SELECT is(pg_temp.catalogs(), :'before', 'malformed keys leave the catalogs unchanged');
SELECT lives_ok($$INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES (repeat('b', 62) || '9', 'Long but fine', 9)$$,
    'status key: 63 bytes of letters and digits is accepted');

------------------------------------------------------------------------------
-- Keys are immutable once referenced, and shipped keys always
------------------------------------------------------------------------------

SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET key = 'new' WHERE key = 'open'$$,
    '23L07', NULL, 'shipped status key cannot change');
SELECT throws_ok($$UPDATE lead_mgmt.category SET key = 'client' WHERE key = 'customer'$$,
    '23L07', NULL, 'shipped category key cannot change');
SELECT is(pg_temp.catalogs(), :'before', 'refused key changes of shipped rows change nothing');

INSERT INTO lead_mgmt.lead_status (key, name, kind, rank) VALUES ('nurture_call', 'Nurture call', 'nurture', 7);
INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('nurture_call', 'nb', 'Oppfølgingssamtale');
SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET key = 'nurturing_call' WHERE key = 'nurture_call'$$,
    'an unused status key of our own can still change');
SELECT results_eq($$SELECT status FROM lead_mgmt.lead_status_label WHERE name = 'Oppfølgingssamtale'$$,
    ARRAY['nurturing_call'], 'its labels follow the new key');

INSERT INTO crm.company (id, name, category) VALUES (1, 'Acme', 'lead');
INSERT INTO crm.person (id, company_id, name, lead_status) VALUES (1, 1, 'Ada', 'nurturing_call');
SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET key = 'nurture_phone' WHERE key = 'nurturing_call'$$,
    '23L07', NULL, 'a status key held by a person cannot change');
SELECT is(pg_temp.catalogs(), :'before', 'the refused status key change changed nothing');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 1', ARRAY['nurturing_call'],
    'the person keeps the status key');

INSERT INTO lead_mgmt.lead_status (key, name, rank) VALUES ('nda_sent', 'NDA sent', 8);
INSERT INTO lead_mgmt.status_transition VALUES ('nda_sent', 'qualified');
SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET key = 'nda_out' WHERE key = 'nda_sent'$$,
    '23L07', NULL, 'a status key named by a transition rule cannot change');
SELECT is(pg_temp.catalogs(), :'before', 'the refused change left status and transition as they were');

INSERT INTO lead_mgmt.category (key, name, category_group, rank) VALUES ('vendor', 'Vendor', 'other', 8);
INSERT INTO crm.company (id, name, category) VALUES (2, 'Supplies Ltd', 'vendor');
SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$UPDATE lead_mgmt.category SET key = 'supplier' WHERE key = 'vendor'$$,
    '23L07', NULL, 'a category key held by a company cannot change');
SELECT is(pg_temp.catalogs(), :'before', 'the refused category key change changed nothing');
SELECT lives_ok($$UPDATE lead_mgmt.category SET name = 'Supplier', description = 'Sells to us', rank = 9
                   WHERE key = 'vendor'$$,
    'names, descriptions and ranks of a category in use stay editable');
SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET name = 'Fresh', description = 'Untouched', rank = 10,
                   stale_after_days = 14, kind = 'open' WHERE key = 'open'$$,
    'names, descriptions, ranks, kinds and thresholds of a shipped status stay editable');
SELECT results_eq($$SELECT name, rank, stale_after_days FROM lead_mgmt.lead_status WHERE key = 'open'$$,
    $$VALUES ('Fresh', 10, 14)$$, 'the edit is stored');

------------------------------------------------------------------------------
-- Soft delete and restore
------------------------------------------------------------------------------

SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'contacting'$$,
    'a shipped status can be soft-deleted');
SELECT results_eq($$SELECT deleted FROM lead_mgmt.lead_status WHERE key = 'contacting'$$, ARRAY[true],
    'the soft-deleted status is still there, marked deleted');
SELECT throws_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$,
    '23L03', NULL, 'rule B6: a soft-deleted status cannot be set');
SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = 'contacting'$$,
    'a soft-deleted status can be restored');
SELECT lives_ok($$UPDATE crm.person SET lead_status = 'contacting' WHERE id = 1$$,
    'a restored status can be set again');

SELECT lives_ok($$UPDATE lead_mgmt.category SET deleted = true WHERE key = 'mql'$$,
    'a shipped category can be soft-deleted');
SELECT throws_ok($$INSERT INTO crm.company (id, name, category) VALUES (3, 'Beta', 'mql')$$,
    '23L03', NULL, 'a soft-deleted category cannot be given to a company');
SELECT is_empty('SELECT * FROM crm.company WHERE id = 3', 'the company was not inserted');
SELECT lives_ok($$UPDATE lead_mgmt.category SET deleted = false WHERE key = 'mql'$$,
    'a soft-deleted category can be restored');
SELECT lives_ok($$INSERT INTO crm.company (id, name, category) VALUES (3, 'Beta', 'mql')$$,
    'a restored category can be given to a company again');

------------------------------------------------------------------------------
-- Hard deletes
------------------------------------------------------------------------------

UPDATE crm.person SET lead_status = 'nurturing_call' WHERE id = 1;
SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'nurturing_call'$$,
    '23L08', NULL, 'a status held by a person cannot be hard-deleted');
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'nda_sent'$$,
    '23L08', NULL, 'a status named by a transition rule cannot be hard-deleted');
SELECT throws_ok($$DELETE FROM lead_mgmt.category WHERE key = 'vendor'$$,
    '23L08', NULL, 'a category held by a company cannot be hard-deleted');
SELECT is(pg_temp.catalogs(), :'before', 'refused hard deletes change nothing');
SELECT results_eq('SELECT lead_status FROM crm.person WHERE id = 1', ARRAY['nurturing_call'],
    'the person still holds the status');

SELECT lives_ok($$DELETE FROM lead_mgmt.category WHERE key = 'trial'$$,
    'an unused category of our own can be hard-deleted');
SELECT lives_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = repeat('b', 62) || '9'$$,
    'an unused status of our own can be hard-deleted');
SELECT is_empty($$SELECT 1 FROM lead_mgmt.category WHERE key = 'trial'
                  UNION ALL SELECT 1 FROM lead_mgmt.lead_status WHERE key = repeat('b', 62) || '9'$$,
    'both rows are gone');

------------------------------------------------------------------------------
-- Shipped rows are protected
------------------------------------------------------------------------------

SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'renurture'$$,
    '23L09', NULL, 'an unused shipped status cannot be hard-deleted');
SELECT throws_ok($$DELETE FROM lead_mgmt.category WHERE key = 'partner'$$,
    '23L09', NULL, 'an unused shipped category cannot be hard-deleted');
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET shipped = false WHERE key = 'qualified'$$,
    '23L09', NULL, 'the shipped flag of a status cannot be cleared');
SELECT throws_ok($$UPDATE lead_mgmt.category SET shipped = true WHERE key = 'vendor'$$,
    '23L09', NULL, 'the shipped flag cannot be set on a row of our own');
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status_label WHERE status = 'open' AND language = 'nb'$$,
    '23L09', NULL, 'a shipped label cannot be deleted');
SELECT throws_ok($$UPDATE lead_mgmt.category_group_label SET shipped = false WHERE language = 'nb'$$,
    '23L09', NULL, 'the shipped flag of a label cannot be cleared');
SELECT throws_ok($$UPDATE lead_mgmt.category_label SET language = 'nn' WHERE category = 'customer' AND language = 'nb'$$,
    '23L07', NULL, 'a shipped label keeps its language');
SELECT is(pg_temp.catalogs(), :'before', 'refused changes to shipped rows change nothing');
SELECT lives_ok($$UPDATE lead_mgmt.category_label SET name = 'Kunder' WHERE category = 'customer' AND language = 'nb'$$,
    'the text of a shipped label stays editable');

------------------------------------------------------------------------------
-- TRUNCATE
------------------------------------------------------------------------------

-- fire the queued deferred checks first: PostgreSQL itself refuses to
-- truncate a table with pending trigger events
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT pg_temp.catalogs() AS before \gset
SELECT throws_ok('TRUNCATE lead_mgmt.lead_status CASCADE', '0A000', NULL, 'lead_status cannot be truncated');
SELECT throws_ok('TRUNCATE lead_mgmt.category CASCADE', '0A000', NULL, 'category cannot be truncated');
SELECT throws_ok('TRUNCATE lead_mgmt.lead_status_label', '0A000', NULL, 'status labels cannot be truncated');
SELECT throws_ok('TRUNCATE lead_mgmt.category_label', '0A000', NULL, 'category labels cannot be truncated');
SELECT throws_ok('TRUNCATE lead_mgmt.category_group_label', '0A000', NULL, 'category group labels cannot be truncated');
SELECT is(pg_temp.catalogs(), :'before', 'refused truncates leave the catalogs unchanged');
SELECT results_eq('SELECT count(*)::int FROM crm.person', ARRAY[1], 'and the cascade did not reach the persons');

------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------

CREATE ROLE lm_tap_reader;
CREATE ROLE lm_tap_editor IN ROLE lead_mgmt_admin;
SELECT pg_temp.catalogs() AS before \gset

SET ROLE lm_tap_reader;
SELECT results_eq(
    $$SELECT (SELECT count(*) FROM lead_mgmt.category)::int, (SELECT count(*) FROM lead_mgmt.lead_status)::int,
             (SELECT count(*) FROM lead_mgmt.status_transition)::int, (SELECT count(*) FROM lead_mgmt.lead_status_label)::int,
             (SELECT count(*) FROM lead_mgmt.category_label)::int, (SELECT count(*) FROM lead_mgmt.category_group_label)::int$$,
    $$VALUES (7, 8, 1, 7, 6, 12)$$,
    'an ordinary role reads every catalog');
SELECT is(lead_mgmt.status_name('qualified'), 'Qualified', 'an ordinary role uses the label functions');
SELECT throws_ok($$INSERT INTO lead_mgmt.lead_status (key, name) VALUES ('hot', 'Hot')$$,
    '42501', NULL, 'an ordinary role cannot add a status');
SELECT throws_ok($$UPDATE lead_mgmt.category SET name = 'Client' WHERE key = 'customer'$$,
    '42501', NULL, 'an ordinary role cannot rename a category');
SELECT throws_ok($$UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'qualified'$$,
    '42501', NULL, 'an ordinary role cannot move the default');
SELECT throws_ok($$DELETE FROM lead_mgmt.status_transition$$,
    '42501', NULL, 'an ordinary role cannot remove transition rules');
SELECT throws_ok($$INSERT INTO lead_mgmt.category_label (category, language, name) VALUES ('lead', 'sv', 'Lead')$$,
    '42501', NULL, 'an ordinary role cannot add labels');
RESET ROLE;
SELECT is(pg_temp.catalogs(), :'before', 'an ordinary role changed nothing');

SET ROLE lm_tap_editor;
SELECT lives_ok($$INSERT INTO lead_mgmt.lead_status (key, name, kind, rank) VALUES ('hot', 'Hot', 'working', 11)$$,
    'lead_mgmt_admin adds a status');
SELECT lives_ok($$UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'hot'$$,
    'lead_mgmt_admin moves the default');
SELECT lives_ok($$UPDATE lead_mgmt.category SET name = 'Client' WHERE key = 'customer'$$,
    'lead_mgmt_admin renames a category');
SELECT lives_ok($$INSERT INTO lead_mgmt.category_label (category, language, name) VALUES ('lead', 'sv', 'Lead')$$,
    'lead_mgmt_admin adds a label');
SELECT lives_ok($$INSERT INTO lead_mgmt.status_transition VALUES ('hot', 'qualified')$$,
    'lead_mgmt_admin adds a transition rule');
SELECT throws_ok($$DELETE FROM lead_mgmt.lead_status WHERE key = 'qualified'$$,
    '23L09', NULL, 'lead_mgmt_admin is still bound by the catalog rules');
RESET ROLE;
SELECT results_eq(
    $$SELECT (SELECT key FROM lead_mgmt.lead_status WHERE is_default),
             (SELECT name FROM lead_mgmt.category WHERE key = 'customer'),
             (SELECT count(*)::int FROM lead_mgmt.status_transition WHERE from_status = 'hot')$$,
    $$VALUES ('hot', 'Client', 1)$$,
    'the administrator''s changes are stored');

SELECT * FROM finish();
ROLLBACK;
