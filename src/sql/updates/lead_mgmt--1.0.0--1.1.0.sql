/*
 * lead_mgmt 1.0.0 -> 1.1.0
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * The registration holds the managed tables as regclass and is written by
 * manage()/unmanage() only; persons pending at commit are settled by a
 * deferred trigger; a dropped managed table ends the management; catalog
 * references are checked with clear errors; label functions without SET
 * clauses, and inlinable label table functions; triggers of the managed
 * tables are re-created with their role argument.
 */

\echo Use "ALTER EXTENSION lead_mgmt UPDATE TO '1.1.0'" to load this file. \quit

CREATE TYPE lead_mgmt.history_event AS ENUM (
    'created', 'set', 'entered', 'hidden', 'shown', 'merged', 'automation'
);
COMMENT ON TYPE lead_mgmt.history_event IS
    'Why a person''s lead status changed: default on insert, set by a user, default on entering a lead-enabled category, hidden, shown again, merged, set by automation';

-- the registration: tables as regclass (a registration of tables that no
-- longer exist is dropped: nothing is managed then)
ALTER TABLE lead_mgmt.registration
    ADD COLUMN company_table_rel regclass,
    ADD COLUMN person_table_rel regclass;
UPDATE lead_mgmt.registration
   SET company_table_rel = pg_catalog.to_regclass(pg_catalog.format('%I.%I', company_schema, company_table)),
       person_table_rel = pg_catalog.to_regclass(pg_catalog.format('%I.%I', person_schema, person_table));
DELETE FROM lead_mgmt.registration WHERE company_table_rel IS NULL OR person_table_rel IS NULL;
ALTER TABLE lead_mgmt.registration
    DROP COLUMN company_schema, DROP COLUMN company_table,
    DROP COLUMN person_schema, DROP COLUMN person_table;
ALTER TABLE lead_mgmt.registration RENAME COLUMN company_table_rel TO company_table;
ALTER TABLE lead_mgmt.registration RENAME COLUMN person_table_rel TO person_table;
ALTER TABLE lead_mgmt.registration
    ALTER COLUMN company_table SET NOT NULL,
    ALTER COLUMN person_table SET NOT NULL;
COMMENT ON TABLE lead_mgmt.registration IS
    'The company and person tables handed to lead_mgmt.manage(); category_fkey/lead_status_fkey name the constraints manage() added. Written by manage() and unmanage() only';
REVOKE INSERT, UPDATE, DELETE ON lead_mgmt.registration FROM lead_mgmt_admin;

-- One row per transaction that wrote persons before their company was
-- visible: it only queues the deferred trigger that settles them at commit.
CREATE TABLE lead_mgmt.settle_marker (
    queued_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE lead_mgmt.settle_marker IS
    'Internal: queues the commit-time settling of persons written before their company was visible';

REVOKE ALL ON lead_mgmt.settle_marker FROM PUBLIC;

-- new C functions
CREATE FUNCTION lead_mgmt.transition_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_transition_guard' LANGUAGE C;
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

-- manage() and unmanage() check themselves that the caller is a superuser or
-- a member of lead_mgmt_admin and owns the tables, and say which is missing.
GRANT EXECUTE ON FUNCTION lead_mgmt.manage(regclass, regclass, name, name, name, name, name) TO PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.unmanage() TO PUBLIC;
REVOKE ALL ON FUNCTION lead_mgmt.manage(regclass, regclass, name, name, name, name, name) FROM lead_mgmt_admin;
REVOKE ALL ON FUNCTION lead_mgmt.unmanage() FROM lead_mgmt_admin;

-- labels
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

CREATE OR REPLACE FUNCTION lead_mgmt.category_name(category text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN $1 IS NOT NULL THEN coalesce(
        (SELECT l.name FROM lead_mgmt.category_label l
          WHERE l.category OPERATOR(pg_catalog.=) $1
            AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()),
        (SELECT c.name FROM lead_mgmt.category c WHERE c.key OPERATOR(pg_catalog.=) $1),
        lead_mgmt.unknown_key('category', $1)) END;
END;

CREATE OR REPLACE FUNCTION lead_mgmt.category_description(category text) RETURNS text
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

CREATE OR REPLACE FUNCTION lead_mgmt.status_name(status text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN $1 IS NOT NULL THEN coalesce(
        (SELECT l.name FROM lead_mgmt.lead_status_label l
          WHERE l.status OPERATOR(pg_catalog.=) $1
            AND l.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()),
        (SELECT s.name FROM lead_mgmt.lead_status s WHERE s.key OPERATOR(pg_catalog.=) $1),
        lead_mgmt.unknown_key('lead status', $1)) END;
END;

CREATE OR REPLACE FUNCTION lead_mgmt.status_description(status text) RETURNS text
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

CREATE OR REPLACE FUNCTION lead_mgmt.category_group_name(category_group lead_mgmt.category_group) RETURNS text
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
CREATE OR REPLACE FUNCTION lead_mgmt.is_lead_enabled(category text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(
        (SELECT c.enable_lead_status FROM lead_mgmt.category c WHERE c.key OPERATOR(pg_catalog.=) $1),
        false);
END;

-- catalog triggers
DROP TRIGGER category_label_10_guard ON lead_mgmt.category_label;
DROP TRIGGER lead_status_label_10_guard ON lead_mgmt.lead_status_label;
DROP TRIGGER category_group_label_10_guard ON lead_mgmt.category_group_label;
CREATE TRIGGER status_transition_10_guard BEFORE INSERT OR UPDATE ON lead_mgmt.status_transition
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.transition_guard();
CREATE TRIGGER category_label_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.category_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.label_guard('category', 'language');
CREATE TRIGGER lead_status_label_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.lead_status_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.label_guard('status', 'language');
CREATE TRIGGER category_group_label_10_guard BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.category_group_label
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.label_guard('category_group', 'language');

-- settle_marker: the commit-time settling of pending persons
CREATE CONSTRAINT TRIGGER settle_marker_settle
    AFTER INSERT ON lead_mgmt.settle_marker
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.settle_pending();

-- a dropped managed table ends the management of the pair
CREATE EVENT TRIGGER lead_mgmt_forget_dropped ON sql_drop
    EXECUTE FUNCTION lead_mgmt.forget_dropped();

GRANT TRUNCATE ON
    lead_mgmt.category, lead_mgmt.lead_status, lead_mgmt.status_transition,
    lead_mgmt.category_label, lead_mgmt.lead_status_label, lead_mgmt.category_group_label
    TO lead_mgmt_admin;

-- the managed tables' triggers, with their role argument; the company rules
-- also fire on key changes, the person statement trigger on status changes
DO $$
DECLARE
    r record;
    company_key text;
BEGIN
    SELECT * INTO r FROM lead_mgmt.registration;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS lead_mgmt_person_rules ON %s', r.person_table);
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS lead_mgmt_person_pending ON %s', r.person_table);
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS lead_mgmt_company_rules ON %s', r.company_table);
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS lead_mgmt_company_cascade ON %s', r.company_table);
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS lead_mgmt_company_pending ON %s', r.company_table);
    EXECUTE pg_catalog.format('CREATE TRIGGER lead_mgmt_person_rules BEFORE INSERT OR UPDATE OF %I, %I ON %s'
                              ' FOR EACH ROW EXECUTE FUNCTION lead_mgmt.person_rules(''person'')',
                              r.company_column, r.lead_status_column, r.person_table);
    EXECUTE pg_catalog.format('CREATE TRIGGER lead_mgmt_person_pending AFTER INSERT OR UPDATE OF %I, %I ON %s'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.resolve_pending(''person'')',
                              r.company_column, r.lead_status_column, r.person_table);
    EXECUTE pg_catalog.format('CREATE TRIGGER lead_mgmt_company_rules BEFORE INSERT OR UPDATE OF %I, %I OR DELETE ON %s'
                              ' FOR EACH ROW EXECUTE FUNCTION lead_mgmt.company_rules(''company'')',
                              r.category_column, r.company_key, r.company_table);
    EXECUTE pg_catalog.format('CREATE TRIGGER lead_mgmt_company_cascade AFTER UPDATE OF %I ON %s FOR EACH ROW'
                              ' WHEN (OLD.%I IS DISTINCT FROM NEW.%I)'
                              ' EXECUTE FUNCTION lead_mgmt.company_cascade(''company'')',
                              r.category_column, r.company_table, r.category_column, r.category_column);
    EXECUTE pg_catalog.format('CREATE TRIGGER lead_mgmt_company_pending AFTER INSERT ON %s'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.resolve_pending(''company'')',
                              r.company_table);
END
$$;

