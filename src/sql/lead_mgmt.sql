/*
 * lead_mgmt install script (edited here, copied to lead_mgmt--<version>.sql
 * by the Makefile).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Everything is created in schema lead_mgmt.  The extension never owns the
 * CRM's company and person tables: lead_mgmt.manage() attaches to them.
 */

\echo Use "CREATE EXTENSION lead_mgmt" to load this file. \quit

-- Administrators of lead management: edit catalogs and call manage().
-- Roles are cluster-wide; another database may have created it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'lead_mgmt_admin') THEN
        CREATE ROLE lead_mgmt_admin NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA lead_mgmt TO PUBLIC;

------------------------------------------------------------------------------
-- Types
------------------------------------------------------------------------------

CREATE TYPE lead_mgmt.category_group AS ENUM (
    'unknown', 'customer', 'potential_customer', 'partner', 'lost', 'other'
);
COMMENT ON TYPE lead_mgmt.category_group IS
    'Fixed classification of company categories; lead status exists only in potential_customer';

CREATE TYPE lead_mgmt.status_kind AS ENUM (
    'open', 'working', 'nurture', 'qualified', 'disqualified'
);
COMMENT ON TYPE lead_mgmt.status_kind IS
    'What a lead status means for dashboards and funnels, independent of its label';

CREATE TYPE lead_mgmt.history_event AS ENUM (
    'created', 'set', 'entered', 'hidden', 'shown', 'merged', 'automation'
);
COMMENT ON TYPE lead_mgmt.history_event IS
    'Why a person''s lead status changed: default on insert, set by a user, default on entering a lead-enabled category, hidden, shown again, merged, set by automation';

------------------------------------------------------------------------------
-- Catalogs
------------------------------------------------------------------------------

CREATE TABLE lead_mgmt.category (
    key                 text PRIMARY KEY,
    name                text NOT NULL,
    description         text,
    category_group      lead_mgmt.category_group NOT NULL DEFAULT 'unknown',
    enable_lead_status  boolean NOT NULL DEFAULT false,
    rank                integer NOT NULL DEFAULT 0,
    deleted             boolean NOT NULL DEFAULT false,
    shipped             boolean NOT NULL DEFAULT false,
    CONSTRAINT category_key_format
        CHECK (key ~ '^[a-z][a-z0-9_]*$' AND octet_length(key) <= 63),
    CONSTRAINT category_name_present CHECK (btrim(name) <> ''),
    -- rule C1 (the guard trigger reports it first, with a hint)
    CONSTRAINT category_lead_status_needs_potential_customer
        CHECK (NOT enable_lead_status OR category_group = 'potential_customer')
);
COMMENT ON TABLE lead_mgmt.category IS
    'Company categories (Lead, MQL, Customer, ...); the name and description are the English labels';
COMMENT ON COLUMN lead_mgmt.category.shipped IS
    'Row ships with lead_mgmt; maintained by the extension';

CREATE TABLE lead_mgmt.lead_status (
    key                 text PRIMARY KEY,
    name                text NOT NULL,
    description         text,
    kind                lead_mgmt.status_kind NOT NULL DEFAULT 'working',
    rank                integer NOT NULL DEFAULT 0,
    is_default          boolean NOT NULL DEFAULT false,
    deleted             boolean NOT NULL DEFAULT false,
    stale_after_days    integer,
    shipped             boolean NOT NULL DEFAULT false,
    CONSTRAINT lead_status_key_format
        CHECK (key ~ '^[a-z][a-z0-9_]*$' AND octet_length(key) <= 63),
    CONSTRAINT lead_status_name_present CHECK (btrim(name) <> ''),
    CONSTRAINT lead_status_stale_after_positive CHECK (stale_after_days > 0),
    -- rule S1 (the guard trigger reports it first, with a hint)
    CONSTRAINT lead_status_default_not_deleted CHECK (NOT (is_default AND deleted))
);
-- rule S1: at most one default; the guard moves the flag, a deferred
-- constraint trigger checks that exactly one remains.
CREATE UNIQUE INDEX lead_status_single_default
    ON lead_mgmt.lead_status (is_default) WHERE is_default;
COMMENT ON TABLE lead_mgmt.lead_status IS
    'Lead statuses of persons (Open, Contacting, ...); the name and description are the English labels';

-- rule S2: where rows exist for a from_status, only the listed moves are allowed
CREATE TABLE lead_mgmt.status_transition (
    from_status text NOT NULL REFERENCES lead_mgmt.lead_status (key),
    to_status   text NOT NULL REFERENCES lead_mgmt.lead_status (key),
    PRIMARY KEY (from_status, to_status),
    CONSTRAINT status_transition_is_a_move CHECK (from_status <> to_status)
);
COMMENT ON TABLE lead_mgmt.status_transition IS
    'Optional transition rules: a status with rows here may only move to the listed statuses';

-- Labels in other languages; the catalogs' own name/description are English.
CREATE TABLE lead_mgmt.category_label (
    category    text NOT NULL REFERENCES lead_mgmt.category (key) ON UPDATE CASCADE ON DELETE CASCADE,
    language    text NOT NULL CONSTRAINT category_label_language_format
                    CHECK (language ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    description text,
    shipped     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (category, language)
);

CREATE TABLE lead_mgmt.lead_status_label (
    status      text NOT NULL REFERENCES lead_mgmt.lead_status (key) ON UPDATE CASCADE ON DELETE CASCADE,
    language    text NOT NULL CONSTRAINT lead_status_label_language_format
                    CHECK (language ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    description text,
    shipped     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (status, language)
);

CREATE TABLE lead_mgmt.category_group_label (
    category_group lead_mgmt.category_group NOT NULL,
    language    text NOT NULL CONSTRAINT category_group_label_language_format
                    CHECK (language ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    description text,
    shipped     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (category_group, language)
);

-- The managed company/person pair (one per database), written by manage()
-- and unmanage() only.  The tables are regclass: dumped by name (so the
-- registration survives dump and restore), followed by OID at run time (so
-- renames are followed).
CREATE TABLE lead_mgmt.registration (
    singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    company_key         name NOT NULL,
    person_key          name NOT NULL,
    company_column      name NOT NULL,
    category_column     name NOT NULL,
    lead_status_column  name NOT NULL,
    label_column        name,
    owner_column        name,
    category_fkey       name,
    lead_status_fkey    name,
    managed_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    company_table       regclass NOT NULL,
    person_table        regclass NOT NULL
);
COMMENT ON TABLE lead_mgmt.registration IS
    'The company and person tables handed to lead_mgmt.manage(); category_fkey/lead_status_fkey name the constraints manage() added. Written by manage() and unmanage() only';

-- One row per transaction that wrote persons before their company was
-- visible: it only queues the deferred trigger that settles them at commit.
CREATE TABLE lead_mgmt.settle_marker (
    queued_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE lead_mgmt.settle_marker IS
    'Internal: queues the commit-time settling of persons written before their company was visible';

------------------------------------------------------------------------------
-- Shipped rows
------------------------------------------------------------------------------

INSERT INTO lead_mgmt.lead_status (key, name, description, kind, rank, is_default, shipped) VALUES
    ('open',         'Open',         'No sales contact has been made yet',                  'open',         1, true,  true),
    ('contacting',   'Contacting',   'Sales is actively trying to reach the lead',          'working',      2, false, true),
    ('disqualified', 'Disqualified', 'The lead does not meet our criteria',                 'disqualified', 3, false, true),
    ('renurture',    'Re-nurture',   'Not ready now, may become relevant later',            'nurture',      4, false, true),
    ('qualified',    'Qualified',    'Meets every requirement to move on in the sales process', 'qualified', 5, false, true);

INSERT INTO lead_mgmt.lead_status_label (status, language, name, description, shipped) VALUES
    ('open',         'nb', 'Åpen',             'Ingen salgskontakt er gjort ennå.',                       true),
    ('contacting',   'nb', 'Kontakter',        'Salg prøver aktivt å nå leadden.',                        true),
    ('disqualified', 'nb', 'Diskvalifisert',   'Leadden oppfyller ikke kriteriene.',                      true),
    ('renurture',    'nb', 'Varmes opp igjen', 'Ikke klar nå, men kan bli aktuell senere.',               true),
    ('qualified',    'nb', 'Kvalifisert',      'Oppfyller alle krav til å gå videre i salgsprosessen.',   true);

INSERT INTO lead_mgmt.category (key, name, description, category_group, enable_lead_status, rank, shipped) VALUES
    ('lead',             'Lead',                            'Initial interest',                                         'potential_customer', true,  1, true),
    ('mql',              'Marketing qualified lead (MQL)',  'Matches the target audience or asks for further contact',  'potential_customer', true,  2, true),
    ('opportunity',      'Opportunity',                     'Active sales process',                                     'potential_customer', false, 3, true),
    ('lost_opportunity', 'Lost opportunity',                'A potential customer with lost sales',                     'potential_customer', false, 4, true),
    ('customer',         'Customer',                        'A company that buys from us',                              'customer',           false, 5, true),
    ('partner',          'Partner',                         'A company we work together with',                          'partner',            false, 6, true);

INSERT INTO lead_mgmt.category_label (category, language, name, description, shipped) VALUES
    ('lead',             'nb', 'Lead',                                     'Innledende interesse.',                            true),
    ('mql',              'nb', 'Markedsføringskvalifisert lead (MQL)',     'Matcher målgruppen eller ber om videre kontakt.',  true),
    ('opportunity',      'nb', 'Mulighet',                                 'Aktiv salgsprosess.',                              true),
    ('lost_opportunity', 'nb', 'Tapt mulighet',                            'En potensiell kunde med tapte salg.',              true),
    ('customer',         'nb', 'Kunde',                                    'Et firma som kjøper fra oss.',                     true),
    ('partner',          'nb', 'Partner',                                  'Et firma vi samarbeider med.',                     true);

INSERT INTO lead_mgmt.category_group_label (category_group, language, name, shipped) VALUES
    ('unknown',            'en', 'Unknown',            true),
    ('customer',           'en', 'Customer',           true),
    ('potential_customer', 'en', 'Potential customer', true),
    ('partner',            'en', 'Partner',            true),
    ('lost',               'en', 'Lost',               true),
    ('other',              'en', 'Other',              true),
    ('unknown',            'nb', 'Ukjent',             true),
    ('customer',           'nb', 'Kunde',              true),
    ('potential_customer', 'nb', 'Potensiell kunde',   true),
    ('partner',            'nb', 'Partner',            true),
    ('lost',               'nb', 'Tapt',               true),
    ('other',              'nb', 'Annet',              true);

------------------------------------------------------------------------------
-- C functions
------------------------------------------------------------------------------

-- Trigger functions attached to the managed tables by manage()
-- Nobody attaches these to tables of their own: manage() does, as the owner.
CREATE FUNCTION lead_mgmt.person_rules() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_person_rules' LANGUAGE C;
COMMENT ON FUNCTION lead_mgmt.person_rules() IS
    'BEFORE INSERT/UPDATE row trigger on the managed person table: rules B1, B2 (moves), B5, B6, S2';

CREATE FUNCTION lead_mgmt.company_rules() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_company_rules' LANGUAGE C;
COMMENT ON FUNCTION lead_mgmt.company_rules() IS
    'BEFORE INSERT/UPDATE row trigger on the managed company table: validates the category and serialises lead-enabled changes';

CREATE FUNCTION lead_mgmt.resolve_pending() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_resolve_pending' LANGUAGE C;
COMMENT ON FUNCTION lead_mgmt.resolve_pending() IS
    'AFTER statement trigger on the managed tables: settles persons written before their company was visible (CTEs, deferred foreign keys)';

CREATE FUNCTION lead_mgmt.company_cascade() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_company_cascade' LANGUAGE C;
COMMENT ON FUNCTION lead_mgmt.company_cascade() IS
    'AFTER UPDATE row trigger on the managed company table: rule B2 when the category becomes lead-enabled';

-- Trigger functions of the catalogs
CREATE FUNCTION lead_mgmt.category_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_category_guard' LANGUAGE C;
CREATE FUNCTION lead_mgmt.category_cascade() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_category_cascade' LANGUAGE C;
CREATE FUNCTION lead_mgmt.lead_status_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_lead_status_guard' LANGUAGE C;
CREATE FUNCTION lead_mgmt.check_single_default() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_check_single_default' LANGUAGE C;
CREATE FUNCTION lead_mgmt.label_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_label_guard' LANGUAGE C;
CREATE FUNCTION lead_mgmt.transition_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_transition_guard' LANGUAGE C;
CREATE FUNCTION lead_mgmt.catalog_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_catalog_changed' LANGUAGE C;
CREATE FUNCTION lead_mgmt.refuse_truncate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_refuse_truncate' LANGUAGE C;
CREATE FUNCTION lead_mgmt.restore_shipped_row() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_restore_shipped_row' LANGUAGE C;
CREATE FUNCTION lead_mgmt.settle_pending() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_settle_pending' LANGUAGE C;
COMMENT ON FUNCTION lead_mgmt.settle_pending() IS
    'Deferred trigger on lead_mgmt.settle_marker: settles, at commit, persons written before their company was visible';
CREATE FUNCTION lead_mgmt.forget_dropped() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'lm_forget_dropped' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION lead_mgmt.forget_dropped() IS
    'sql_drop event trigger: a dropped managed table ends the management of the pair';

REVOKE EXECUTE ON FUNCTION
    lead_mgmt.person_rules(), lead_mgmt.company_rules(), lead_mgmt.resolve_pending(),
    lead_mgmt.company_cascade(), lead_mgmt.category_guard(), lead_mgmt.category_cascade(),
    lead_mgmt.lead_status_guard(), lead_mgmt.check_single_default(), lead_mgmt.label_guard(),
    lead_mgmt.transition_guard(),
    lead_mgmt.catalog_changed(), lead_mgmt.refuse_truncate(), lead_mgmt.restore_shipped_row(),
    lead_mgmt.settle_pending(), lead_mgmt.forget_dropped()
    FROM PUBLIC;

CREATE FUNCTION lead_mgmt.history_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_history_guard' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION lead_mgmt.history_guard() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.history_guard() IS
    'Trigger on lead_mgmt.status_history: the history is append-only';

CREATE FUNCTION lead_mgmt.purge_history(before timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME', 'lm_purge_history'
    LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION lead_mgmt.purge_history(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.purge_history(timestamptz) TO lead_mgmt_admin;
COMMENT ON FUNCTION lead_mgmt.purge_history(timestamptz) IS
    'Delete status history changed before the given time (lead_mgmt_admin only); returns the rows deleted';

CREATE FUNCTION lead_mgmt.start_history() RETURNS void
    AS 'MODULE_PATHNAME', 'lm_start_history'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION lead_mgmt.start_history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.start_history() TO PUBLIC;
COMMENT ON FUNCTION lead_mgmt.start_history() IS
    'Create the status history of the managed tables if it is missing (after an upgrade from 1.0.0), starting from the statuses there are';


-- What the current transaction changed so far, per event (the change sink's record)
CREATE FUNCTION lead_mgmt.transaction_changes()
    RETURNS TABLE (event lead_mgmt.history_event, persons bigint)
    AS 'MODULE_PATHNAME', 'lm_transaction_changes'
    LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION lead_mgmt.transaction_changes() IS
    'Lead status changes the current transaction made so far, per event, as lead_mgmt recorded them';

-- manage() / unmanage()
CREATE FUNCTION lead_mgmt.manage(
    company_table       regclass,
    person_table        regclass,
    company_column      name DEFAULT NULL,
    category_column     name DEFAULT 'category',
    lead_status_column  name DEFAULT 'lead_status',
    label_column        name DEFAULT NULL,
    owner_column        name DEFAULT NULL
) RETURNS void
    AS 'MODULE_PATHNAME', 'lm_manage'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION lead_mgmt.manage(regclass, regclass, name, name, name, name, name) IS
    'Hand the CRM''s company and person tables to lead_mgmt: adds the category and lead_status columns, installs the rules, back-fills the default status';

CREATE FUNCTION lead_mgmt.unmanage() RETURNS void
    AS 'MODULE_PATHNAME', 'lm_unmanage'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION lead_mgmt.unmanage() IS
    'Remove the triggers and constraints manage() added; all data stays';

-- manage() and unmanage() check themselves that the caller is a superuser or
-- a member of lead_mgmt_admin and owns the tables, and say which is missing.
REVOKE ALL ON FUNCTION lead_mgmt.manage(regclass, regclass, name, name, name, name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION lead_mgmt.unmanage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.manage(regclass, regclass, name, name, name, name, name) TO PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.unmanage() TO PUBLIC;

------------------------------------------------------------------------------
-- Labels in the session's language (setting lead_mgmt.language, default en)
------------------------------------------------------------------------------

-- Labels.  The *_labels() table functions are what queries and views join:
-- the planner inlines them into a plain join with the label tables.  The
-- scalar *_name() and *_description() functions are for single values: a
-- NULL key gives NULL, an unknown key is an error.  All bodies are parsed
-- once, when they are created (BEGIN ATOMIC), so the caller's search_path
-- changes nothing, and none carries a SET clause.

CREATE FUNCTION lead_mgmt.current_language() RETURNS text
    AS 'MODULE_PATHNAME', 'lm_current_language'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_mgmt.current_language() IS
    'The language of labels: lead_mgmt.language, with no read as nb';

CREATE FUNCTION lead_mgmt.unknown_key(what text, key text) RETURNS text
    AS 'MODULE_PATHNAME', 'lm_unknown_key'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_mgmt.unknown_key(text, text) IS
    'Raises the error for a key the label functions do not know';

CREATE FUNCTION lead_mgmt.status_labels(status text)
    RETURNS TABLE (name text, description text)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(l.name, s.name), coalesce(l.description, s.description)
      FROM lead_mgmt.lead_status s
      LEFT JOIN lead_mgmt.lead_status_label l
        ON l.status OPERATOR(pg_catalog.=) s.key
       AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
     WHERE s.key OPERATOR(pg_catalog.=) $1;
END;
COMMENT ON FUNCTION lead_mgmt.status_labels(text) IS
    'Name and description of a lead status in lead_mgmt.language (English where no label); inlined into the calling query';

CREATE FUNCTION lead_mgmt.category_labels(category text)
    RETURNS TABLE (name text, description text)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(l.name, c.name), coalesce(l.description, c.description)
      FROM lead_mgmt.category c
      LEFT JOIN lead_mgmt.category_label l
        ON l.category OPERATOR(pg_catalog.=) c.key
       AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
     WHERE c.key OPERATOR(pg_catalog.=) $1;
END;
COMMENT ON FUNCTION lead_mgmt.category_labels(text) IS
    'Name and description of a category in lead_mgmt.language (English where no label); inlined into the calling query';

CREATE FUNCTION lead_mgmt.category_group_labels(category_group lead_mgmt.category_group)
    RETURNS TABLE (name text, description text)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(l.name, e.name, $1::text), coalesce(l.description, e.description)
      FROM (SELECT 1) AS one
      LEFT JOIN lead_mgmt.category_group_label l
        ON l.category_group OPERATOR(pg_catalog.=) $1
       AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
      LEFT JOIN lead_mgmt.category_group_label e
        ON e.category_group OPERATOR(pg_catalog.=) $1
       AND e.language OPERATOR(pg_catalog.=) 'en';
END;
COMMENT ON FUNCTION lead_mgmt.category_group_labels(lead_mgmt.category_group) IS
    'Name and description of a category group in lead_mgmt.language (English where no label); inlined into the calling query';

CREATE FUNCTION lead_mgmt.category_name(category text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN $1 IS NOT NULL THEN coalesce(
        (SELECT l.name FROM lead_mgmt.category_label l
          WHERE l.category OPERATOR(pg_catalog.=) $1
            AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()),
        (SELECT c.name FROM lead_mgmt.category c WHERE c.key OPERATOR(pg_catalog.=) $1),
        lead_mgmt.unknown_key('category', $1)) END;
END;

CREATE FUNCTION lead_mgmt.category_description(category text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN $1 IS NOT NULL THEN
        CASE WHEN EXISTS (SELECT FROM lead_mgmt.category c WHERE c.key OPERATOR(pg_catalog.=) $1)
             THEN coalesce(
                (SELECT l.description FROM lead_mgmt.category_label l
                  WHERE l.category OPERATOR(pg_catalog.=) $1
                    AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()),
                (SELECT c.description FROM lead_mgmt.category c WHERE c.key OPERATOR(pg_catalog.=) $1))
             ELSE lead_mgmt.unknown_key('category', $1) END END;
END;

CREATE FUNCTION lead_mgmt.status_name(status text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN $1 IS NOT NULL THEN coalesce(
        (SELECT l.name FROM lead_mgmt.lead_status_label l
          WHERE l.status OPERATOR(pg_catalog.=) $1
            AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()),
        (SELECT s.name FROM lead_mgmt.lead_status s WHERE s.key OPERATOR(pg_catalog.=) $1),
        lead_mgmt.unknown_key('lead status', $1)) END;
END;

CREATE FUNCTION lead_mgmt.status_description(status text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN $1 IS NOT NULL THEN
        CASE WHEN EXISTS (SELECT FROM lead_mgmt.lead_status s WHERE s.key OPERATOR(pg_catalog.=) $1)
             THEN coalesce(
                (SELECT l.description FROM lead_mgmt.lead_status_label l
                  WHERE l.status OPERATOR(pg_catalog.=) $1
                    AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()),
                (SELECT s.description FROM lead_mgmt.lead_status s WHERE s.key OPERATOR(pg_catalog.=) $1))
             ELSE lead_mgmt.unknown_key('lead status', $1) END END;
END;

CREATE FUNCTION lead_mgmt.category_group_name(category_group lead_mgmt.category_group) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(
        (SELECT l.name FROM lead_mgmt.category_group_label l
          WHERE l.category_group OPERATOR(pg_catalog.=) $1
            AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()),
        (SELECT l.name FROM lead_mgmt.category_group_label l
          WHERE l.category_group OPERATOR(pg_catalog.=) $1
            AND l.language OPERATOR(pg_catalog.=) 'en'),
        $1::text);
END;

-- Whether a category shows lead status: its enable_lead_status flag, which
-- rule C1 keeps to group potential_customer (unknown or NULL: false)
CREATE FUNCTION lead_mgmt.is_lead_enabled(category text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(
        (SELECT c.enable_lead_status FROM lead_mgmt.category c WHERE c.key OPERATOR(pg_catalog.=) $1),
        false);
END;

------------------------------------------------------------------------------
-- Catalog triggers (order within a timing is by name)
------------------------------------------------------------------------------

-- category
CREATE TRIGGER category_00_restore BEFORE INSERT ON lead_mgmt.category
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.restore_shipped_row('key');
CREATE TRIGGER category_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.category
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.category_guard();
CREATE TRIGGER category_20_cascade AFTER UPDATE ON lead_mgmt.category
    FOR EACH ROW
    WHEN (OLD.category_group IS DISTINCT FROM NEW.category_group
          OR OLD.enable_lead_status IS DISTINCT FROM NEW.enable_lead_status)
    EXECUTE FUNCTION lead_mgmt.category_cascade();
CREATE TRIGGER category_90_changed AFTER INSERT OR UPDATE OR DELETE ON lead_mgmt.category
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.catalog_changed();
CREATE TRIGGER category_no_truncate BEFORE TRUNCATE ON lead_mgmt.category
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.refuse_truncate();

-- lead_status
CREATE TRIGGER lead_status_00_restore BEFORE INSERT ON lead_mgmt.lead_status
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.restore_shipped_row('key');
CREATE TRIGGER lead_status_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.lead_status
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.lead_status_guard();
CREATE CONSTRAINT TRIGGER lead_status_single_default
    AFTER INSERT OR UPDATE OR DELETE ON lead_mgmt.lead_status
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.check_single_default();
CREATE TRIGGER lead_status_90_changed AFTER INSERT OR UPDATE OR DELETE ON lead_mgmt.lead_status
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.catalog_changed();
CREATE TRIGGER lead_status_no_truncate BEFORE TRUNCATE ON lead_mgmt.lead_status
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.refuse_truncate();

-- status_transition
CREATE TRIGGER status_transition_10_guard BEFORE INSERT OR UPDATE ON lead_mgmt.status_transition
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.transition_guard();
CREATE TRIGGER status_transition_90_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_mgmt.status_transition
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.catalog_changed();

-- labels
CREATE TRIGGER category_label_00_restore BEFORE INSERT ON lead_mgmt.category_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.restore_shipped_row('category', 'language');
CREATE TRIGGER category_label_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.category_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.label_guard('category', 'language');
CREATE TRIGGER category_label_no_truncate BEFORE TRUNCATE ON lead_mgmt.category_label
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.refuse_truncate();
CREATE TRIGGER lead_status_label_00_restore BEFORE INSERT ON lead_mgmt.lead_status_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.restore_shipped_row('status', 'language');
CREATE TRIGGER lead_status_label_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.lead_status_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.label_guard('status', 'language');
CREATE TRIGGER lead_status_label_no_truncate BEFORE TRUNCATE ON lead_mgmt.lead_status_label
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.refuse_truncate();
CREATE TRIGGER category_group_label_00_restore BEFORE INSERT ON lead_mgmt.category_group_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.restore_shipped_row('category_group', 'language');
CREATE TRIGGER category_group_label_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.category_group_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.label_guard('category_group', 'language');
CREATE TRIGGER category_group_label_no_truncate BEFORE TRUNCATE ON lead_mgmt.category_group_label
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.refuse_truncate();

-- settle_marker: the commit-time settling of pending persons
CREATE CONSTRAINT TRIGGER settle_marker_settle
    AFTER INSERT ON lead_mgmt.settle_marker
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.settle_pending();

-- a dropped managed table ends the management of the pair
CREATE EVENT TRIGGER lead_mgmt_forget_dropped ON sql_drop
    EXECUTE FUNCTION lead_mgmt.forget_dropped();

-- registration
CREATE TRIGGER registration_90_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_mgmt.registration
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.catalog_changed();

------------------------------------------------------------------------------
-- Privileges and dump
------------------------------------------------------------------------------

GRANT SELECT ON ALL TABLES IN SCHEMA lead_mgmt TO PUBLIC;
REVOKE ALL ON lead_mgmt.settle_marker FROM PUBLIC;
-- manage() adds foreign keys from the managed tables to the catalogs
GRANT REFERENCES ON lead_mgmt.category, lead_mgmt.lead_status TO lead_mgmt_admin;
-- the registration is written by manage()/unmanage() only (they run as the
-- extension's owner for it): it names the tables cascades write as owner
GRANT INSERT, UPDATE, DELETE ON
    lead_mgmt.category, lead_mgmt.lead_status, lead_mgmt.status_transition,
    lead_mgmt.category_label, lead_mgmt.lead_status_label, lead_mgmt.category_group_label
    TO lead_mgmt_admin;
-- TRUNCATE is refused by lead_mgmt's own triggers, with a hint
GRANT TRUNCATE ON
    lead_mgmt.category, lead_mgmt.lead_status, lead_mgmt.status_transition,
    lead_mgmt.category_label, lead_mgmt.lead_status_label, lead_mgmt.category_group_label
    TO lead_mgmt_admin;

-- Catalogs are configuration: pg_dump dumps every row.  Shipped rows that
-- collide with the ones CREATE EXTENSION inserts on restore are merged into
-- them by the *_00_restore triggers.
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.category', '');
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.lead_status', '');
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.status_transition', '');
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.category_label', '');
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.lead_status_label', '');
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.category_group_label', '');
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.registration', '');
