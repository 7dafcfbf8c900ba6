/*
 * lead_mgmt status history: replay, analytics, category automation (rules
 * A1, A2) and status merges.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * The Makefile appends this file, after views.sql, to the install script
 * and to the upgrade script from the last release, so both create the same
 * objects.
 *
 * What reads the history or takes a company key is written from the
 * registration by lead_mgmt.build_analytics() (build_views() calls it,
 * drop_views() drops what it made), with the managed tables' key types.
 * All of it runs as the caller: row-level security on the history (a reader
 * sees the rows of the persons they may see) and on the managed tables
 * applies.
 *
 * How history is read:
 *  - A person is (company_id, person_id) when the person key includes the
 *    company column, else person_id alone.
 *  - Rows of one person are ordered by seq.  After a row, the person's
 *    stored status is its to_status, and it shows when visible is true.
 *  - A stay is a run of rows with the same to_status: it starts at the run's
 *    first row and ends at the first row with another to_status (hides,
 *    re-shows and automation rows keep from_status = to_status, so they
 *    neither start nor end one).
 *  - A person reaches a status at the first visible row whose to_status it is.
 *  - History does not record deletions: the analytics count the persons
 *    there are now.
 */

------------------------------------------------------------------------------
-- Replay
------------------------------------------------------------------------------

-- Every person of a company whose stored status, or whether it shows, is not
-- what their last history row leads to (expected: none).  History rows
-- belong to a company: a person who left for no company is last seen hidden
-- in the company left.
CREATE FUNCTION lead_mgmt.verify_history()
    RETURNS TABLE (person_id text, company_id text, stored_status text, replayed_status text,
                   stored_visible boolean, replayed_visible boolean)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r lead_mgmt.registration;
    composite boolean;
BEGIN
    SELECT * INTO r FROM lead_mgmt.registration;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_mgmt manages no tables'
            USING ERRCODE = '42704', HINT = 'Call lead_mgmt.manage(company_table => ..., person_table => ...) first.';
    END IF;
    IF to_regclass('lead_mgmt.status_history') IS NULL THEN
        RAISE EXCEPTION 'lead_mgmt.status_history does not exist'
            USING ERRCODE = '42P01', HINT = 'lead_mgmt.manage() creates it; lead_mgmt.start_history() creates a missing one.';
    END IF;
    -- a person key of two columns includes the company: match on both
    SELECT i.indnkeyatts = 2 INTO composite FROM pg_index i
     WHERE i.indrelid = r.person_table AND i.indisprimary;
    RETURN QUERY EXECUTE format(
        'SELECT p.%1$I::text, p.%2$I::text, p.%3$I::text, h.to_status,'
        '       coalesce(k.enable_lead_status, false), h.visible'
        '  FROM ONLY %4$s p'
        '  LEFT JOIN ONLY %6$s c ON c.%7$I OPERATOR(pg_catalog.=) p.%2$I'
        '  LEFT JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) c.%8$I'
        '  LEFT JOIN LATERAL (SELECT x.to_status, x.visible FROM lead_mgmt.status_history x'
        '                      WHERE x.person_id OPERATOR(pg_catalog.=) p.%1$I%5$s'
        '                      ORDER BY x.seq DESC LIMIT 1) h ON true'
        ' WHERE p.%2$I IS NOT NULL'
        '   AND (p.%3$I::text IS DISTINCT FROM h.to_status'
        '        OR (p.%3$I IS NOT NULL AND coalesce(k.enable_lead_status, false) IS DISTINCT FROM h.visible))'
        ' ORDER BY 1',
        r.person_key, r.company_column, r.lead_status_column, r.person_table,
        CASE WHEN composite THEN format(' AND x.company_id OPERATOR(pg_catalog.=) p.%I', r.company_column) ELSE '' END,
        r.company_table, r.company_key, r.category_column);
END
$$;
REVOKE ALL ON FUNCTION lead_mgmt.verify_history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.verify_history() TO lead_mgmt_admin;
COMMENT ON FUNCTION lead_mgmt.verify_history() IS
    'Replay status history: the persons whose stored status, or whether it shows, differs from what their history leads to (expected: none)';

------------------------------------------------------------------------------
-- The AFTER ROW trigger that records what was written
------------------------------------------------------------------------------

CREATE FUNCTION lead_mgmt.person_changes() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_person_changes' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION lead_mgmt.person_changes() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.person_changes() IS
    'AFTER INSERT/UPDATE row trigger on the managed person table: records each status change as written (history, rule A2)';

-- What the change sink writes to status history, read by its own INSERT
CREATE FUNCTION lead_mgmt.history_batch() RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'lm_history_batch' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION lead_mgmt.history_batch() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.history_batch() IS
    'Internal: the status history rows the change sink is writing (no rows outside that write)';

-- The triggers that record what was written on the managed tables (status
-- history, the count summary), installed by manage().  The person trigger
-- lists the person key and the owner among its columns (a person's history
-- follows a key change; counts per owner follow the owner), which ALTER
-- TABLE refuses to retype while the trigger exists: the views' DDL event
-- trigger takes these triggers off for such a command and puts them back at
-- its end, like the views.
CREATE FUNCTION lead_mgmt.company_changes() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_company_changes' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION lead_mgmt.company_changes() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.company_changes() IS
    'AFTER INSERT/DELETE row trigger on the managed company table: companies per category in the count summary';

CREATE FUNCTION lead_mgmt.counts_truncate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'lm_counts_truncate' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION lead_mgmt.counts_truncate() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.counts_truncate() IS
    'AFTER TRUNCATE trigger on the managed tables: their counts are gone from the count summary';

CREATE FUNCTION lead_mgmt.change_triggers(install boolean) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r lead_mgmt.registration;
    owner_listed text := '';
    t record;
BEGIN
    SELECT * INTO r FROM lead_mgmt.registration;
    IF NOT FOUND OR NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = r.person_table)
       OR NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = r.company_table) THEN
        RETURN;
    END IF;
    IF r.owner_column IS NOT NULL AND EXISTS (
           SELECT FROM pg_attribute a WHERE a.attrelid = r.person_table AND a.attname = r.owner_column
              AND a.attnum > 0 AND NOT a.attisdropped) THEN
        owner_listed := format(', %I', r.owner_column);
    END IF;
    FOR t IN
        SELECT * FROM (VALUES
            (r.person_table, 'lead_mgmt_person_changes',
             format('AFTER INSERT OR UPDATE OF %I, %I, %I%s OR DELETE ON %s FOR EACH ROW'
                    ' EXECUTE FUNCTION lead_mgmt.person_changes(''person'')',
                    r.company_column, r.lead_status_column, r.person_key, owner_listed, r.person_table)),
            (r.person_table, 'lead_mgmt_person_truncate',
             format('AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.counts_truncate(''person'')',
                    r.person_table)),
            (r.company_table, 'lead_mgmt_company_changes',
             format('AFTER INSERT OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION lead_mgmt.company_changes(''company'')',
                    r.company_table)),
            (r.company_table, 'lead_mgmt_company_truncate',
             format('AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.counts_truncate(''company'')',
                    r.company_table))
        ) AS x (tbl, name, definition)
    LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_trigger g WHERE g.tgrelid = t.tbl AND g.tgname = t.name) THEN
            IF NOT install THEN
                EXECUTE format('DROP TRIGGER %I ON %s', t.name, t.tbl);
            END IF;
        ELSIF install THEN
            EXECUTE format('CREATE TRIGGER %I %s', t.name, t.definition);
        END IF;
    END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION lead_mgmt.change_triggers(boolean) FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.change_triggers(boolean) IS
    'Internal: install (true) or take off (false) the triggers that record what was written on the managed tables';

-- Tables managed before this version get them now.
SELECT lead_mgmt.change_triggers(true);

------------------------------------------------------------------------------
-- The count summary
------------------------------------------------------------------------------

CREATE FUNCTION lead_mgmt.counts_available() RETURNS boolean
    AS 'MODULE_PATHNAME', 'lm_counts_available'
    LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lead_mgmt.counts_available() IS
    'Whether the count views answer from the count summary for the current role: it may read the managed tables and row-level security does not apply to it there (else they count the rows it may see)';

CREATE FUNCTION lead_mgmt.count_summary(kind "char")
    RETURNS TABLE (category text, status text, owner text, n bigint)
    AS 'MODULE_PATHNAME', 'lm_count_summary'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION lead_mgmt.count_summary("char") IS
    'The counts of a kind (p: persons per category and status; o: per owner, category and status; c: companies per category) as of the caller''s snapshot, its own transaction''s changes included: from the count summary for a role lead_mgmt.counts_available() is true for, else counted from the rows the role may see';

CREATE FUNCTION lead_mgmt.compact_counts() RETURNS bigint
    AS 'MODULE_PATHNAME', 'lm_compact_counts'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION lead_mgmt.compact_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.compact_counts() TO lead_mgmt_admin;
COMMENT ON FUNCTION lead_mgmt.compact_counts() IS
    'Fold the count summary into one row per key, without holding up writers or readers; returns the rows folded (lead_mgmt_admin; writers also fold it now and then by themselves)';

CREATE FUNCTION lead_mgmt.rebuild_counts() RETURNS bigint
    AS 'MODULE_PATHNAME', 'lm_rebuild_counts'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION lead_mgmt.rebuild_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.rebuild_counts() TO lead_mgmt_admin;
COMMENT ON FUNCTION lead_mgmt.rebuild_counts() IS
    'Recount the count summary from the managed tables (writers wait for it: the tables are locked in SHARE mode until the transaction ends); returns its rows (lead_mgmt_admin)';

-- Every key whose summary differs from a recount (expected: none).
CREATE FUNCTION lead_mgmt.verify_counts()
    RETURNS TABLE (kind "char", category text, status text, owner text, summary bigint, recount bigint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r lead_mgmt.registration;
    persons text;
    owner_expr text;
BEGIN
    SELECT * INTO r FROM lead_mgmt.registration;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_mgmt manages no tables'
            USING ERRCODE = '42704', HINT = 'Call lead_mgmt.manage(company_table => ..., person_table => ...) first.';
    END IF;
    IF to_regclass('lead_mgmt.count_delta') IS NULL THEN
        RAISE EXCEPTION 'lead_mgmt.count_delta does not exist'
            USING ERRCODE = '42P01', HINT = 'lead_mgmt.manage() creates it; lead_mgmt.start_history() creates it for tables managed before 1.1.0.';
    END IF;
    IF NOT lead_mgmt.counts_available() THEN
        RAISE EXCEPTION 'the count summary does not answer for role "%"', current_user
            USING ERRCODE = '42501',
                  HINT = 'Run verify_counts() as a role that reads the managed tables without row-level security (lead_mgmt_admin, their owner).';
    END IF;
    IF r.owner_column IS NOT NULL AND EXISTS (
           SELECT FROM pg_attribute a WHERE a.attrelid = r.person_table AND a.attname = r.owner_column
              AND a.attnum > 0 AND NOT a.attisdropped) THEN
        owner_expr := format('p.%I::text', r.owner_column);
    END IF;
    persons := format('FROM ONLY %s p LEFT JOIN ONLY %s c ON c.%I OPERATOR(pg_catalog.=) p.%I',
                      r.person_table, r.company_table, r.company_key, r.company_column);
    RETURN QUERY EXECUTE format(
        'WITH s AS (SELECT ''p''::"char" AS kind, x.category, x.status, NULL::text AS owner, x.n'
        '             FROM lead_mgmt.count_summary(''p'') x'
        '           %5$s'
        '           UNION ALL SELECT ''c'', x.category, NULL, NULL, x.n FROM lead_mgmt.count_summary(''c'') x),'
        ' t AS (SELECT ''p''::"char" AS kind, c.%1$I::text AS category, p.%2$I::text AS status, NULL::text AS owner,'
        '              pg_catalog.count(*) AS n %3$s GROUP BY 2, 3'
        '       %6$s'
        '       UNION ALL SELECT ''c'', c.%1$I::text, NULL, NULL, pg_catalog.count(*) FROM ONLY %4$s c GROUP BY 2)'
        ' SELECT coalesce(s.kind, t.kind), coalesce(s.category, t.category), coalesce(s.status, t.status),'
        '        coalesce(s.owner, t.owner), coalesce(s.n, 0)::bigint, coalesce(t.n, 0)::bigint'
        '   FROM s FULL JOIN t ON s.kind = t.kind AND s.category IS NOT DISTINCT FROM t.category'
        '        AND s.status IS NOT DISTINCT FROM t.status AND s.owner IS NOT DISTINCT FROM t.owner'
        '  WHERE coalesce(s.n, 0) <> coalesce(t.n, 0)'
        '  ORDER BY 1, 2, 3, 4',
        r.category_column, r.lead_status_column, persons, r.company_table,
        CASE WHEN owner_expr IS NULL THEN ''
             ELSE 'UNION ALL SELECT ''o'', x.category, x.status, x.owner, x.n FROM lead_mgmt.count_summary(''o'') x' END,
        CASE WHEN owner_expr IS NULL THEN ''
             ELSE format('UNION ALL SELECT ''o'', c.%I::text, p.%I::text, %s, pg_catalog.count(*) %s GROUP BY 2, 3, 4',
                         r.category_column, r.lead_status_column, owner_expr, persons) END);
END
$$;
REVOKE ALL ON FUNCTION lead_mgmt.verify_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.verify_counts() TO lead_mgmt_admin;
COMMENT ON FUNCTION lead_mgmt.verify_counts() IS
    'Compare the count summary with a recount of the managed tables: the keys that differ (expected: none)';

------------------------------------------------------------------------------
-- Category rules (A2)
------------------------------------------------------------------------------

CREATE TABLE lead_mgmt.category_rule (
    status      text NOT NULL REFERENCES lead_mgmt.lead_status (key),
    category    text NOT NULL REFERENCES lead_mgmt.category (key),
    enabled     boolean NOT NULL DEFAULT true,
    automatic   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (status, category)
);
-- one automatic rule per status (the guard says so first, with a hint)
CREATE UNIQUE INDEX category_rule_one_automatic
    ON lead_mgmt.category_rule (status) WHERE enabled AND automatic;
COMMENT ON TABLE lead_mgmt.category_rule IS
    'Rule A2: when a person''s lead status is set to status, set the company''s category to category (automatic), or suggest it (lead_mgmt.category_suggestions)';
COMMENT ON COLUMN lead_mgmt.category_rule.status IS 'The lead status whose setting fires the rule';
COMMENT ON COLUMN lead_mgmt.category_rule.category IS 'The category the company gets (groups potential_customer, customer, partner, lost)';
COMMENT ON COLUMN lead_mgmt.category_rule.enabled IS 'Whether the rule is in use';
COMMENT ON COLUMN lead_mgmt.category_rule.automatic IS 'true: the category changes in the same transaction, while the company is lead-enabled; false: suggest only';

-- Rules are checked when saved: the status and the category exist and are
-- not deleted, the category is one a lead may move to, and a status has at
-- most one automatic rule.
CREATE FUNCTION lead_mgmt.category_rule_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s lead_mgmt.lead_status;
    k lead_mgmt.category;
    other text;
    waited integer := 0;
BEGIN
    IF NEW.status IS NULL OR NEW.category IS NULL THEN
        RAISE EXCEPTION 'a category rule needs a %', CASE WHEN NEW.status IS NULL THEN 'status' ELSE 'category' END
            USING ERRCODE = '23502',
                  HINT = 'Give the lead status whose setting fires the rule and the category the company gets.';
    END IF;
    -- while a dump is restored (check_function_bodies off, as pg_dump's
    -- output sets it), a parallel pg_restore may be loading the catalogs
    -- beside this table, and the rule's foreign keys need their rows: wait
    -- for them a while
    LOOP
        SELECT * INTO s FROM lead_mgmt.lead_status x WHERE x.key = NEW.status;
        SELECT * INTO k FROM lead_mgmt.category x WHERE x.key = NEW.category;
        EXIT WHEN (s.key IS NOT NULL AND k.key IS NOT NULL) OR waited >= 1500
                  OR current_setting('check_function_bodies')::boolean;
        PERFORM pg_sleep(0.02);
        waited := waited + 1;
    END LOOP;
    IF s.key IS NULL THEN
        RAISE EXCEPTION 'lead status "%" of a category rule does not exist', NEW.status
            USING ERRCODE = '23503',
                  HINT = format('Lead statuses are: %s.', (SELECT string_agg(x.key, ', ' ORDER BY x.rank, x.key)
                                                          FROM lead_mgmt.lead_status x WHERE NOT x.deleted));
    END IF;
    IF k.key IS NULL THEN
        RAISE EXCEPTION 'category "%" of a category rule does not exist', NEW.category
            USING ERRCODE = '23503',
                  HINT = format('Categories are: %s.', (SELECT string_agg(x.key, ', ' ORDER BY x.rank, x.key)
                                                       FROM lead_mgmt.category x WHERE NOT x.deleted));
    END IF;
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status OR NEW.category IS DISTINCT FROM OLD.category
       OR (NEW.enabled AND NOT OLD.enabled) THEN
        IF s.deleted THEN
            RAISE EXCEPTION 'lead status "%" is deleted', NEW.status
                USING ERRCODE = '23L03', HINT = 'A deleted status cannot be set, so a rule on it would never fire; restore it first.';
        END IF;
        IF k.deleted THEN
            RAISE EXCEPTION 'category "%" is deleted', NEW.category
                USING ERRCODE = '23L03', HINT = 'A deleted category cannot be newly set; restore it first, or choose another.';
        END IF;
    END IF;
    IF k.category_group NOT IN ('potential_customer', 'customer', 'partner', 'lost') THEN
        RAISE EXCEPTION 'category "%" is in group %, which a category rule cannot move a lead to', NEW.category, k.category_group
            USING ERRCODE = '23L10',
                  HINT = 'A rule moves a lead on to a category of group potential_customer, customer, partner or lost.';
    END IF;
    IF NEW.enabled AND NEW.automatic THEN
        SELECT r.category INTO other FROM lead_mgmt.category_rule r
         WHERE r.status = NEW.status AND r.enabled AND r.automatic AND r.category <> NEW.category;
        IF FOUND THEN
            RAISE EXCEPTION 'lead status "%" has an automatic category rule already (to "%")', NEW.status, other
                USING ERRCODE = '23505',
                      HINT = format('A status moves a company to one category; disable the other rule first: UPDATE lead_mgmt.category_rule SET enabled = false WHERE status = %L AND category = %L;',
                                    NEW.status, other);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION lead_mgmt.category_rule_check() FROM PUBLIC;
CREATE TRIGGER category_rule_10_check BEFORE INSERT OR UPDATE ON lead_mgmt.category_rule
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.category_rule_check();
CREATE TRIGGER category_rule_90_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_mgmt.category_rule
    FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.catalog_changed();
GRANT SELECT ON lead_mgmt.category_rule TO PUBLIC;
GRANT INSERT, UPDATE, DELETE, TRUNCATE ON lead_mgmt.category_rule TO lead_mgmt_admin;
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.category_rule', '');

------------------------------------------------------------------------------
-- Status merges
------------------------------------------------------------------------------

CREATE FUNCTION lead_mgmt.merge_status(old_key text, new_key text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'lm_merge_status'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION lead_mgmt.merge_status(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lead_mgmt.merge_status(text, text) TO lead_mgmt_admin;
COMMENT ON FUNCTION lead_mgmt.merge_status(text, text) IS
    'Move every person holding old_key, shown or retained, to new_key (recorded as merged); old_key''s transition and category rules pass to new_key, and old_key ends soft-deleted. Returns the persons moved (lead_mgmt_admin only)';

------------------------------------------------------------------------------
-- What build_analytics() creates over the managed tables
------------------------------------------------------------------------------

CREATE FUNCTION lead_mgmt.drop_analytics() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET client_min_messages = warning
AS $$
DECLARE
    f regprocedure;
BEGIN
    DROP VIEW IF EXISTS lead_mgmt.category_suggestions, lead_mgmt.new_leads, lead_mgmt.funnel,
                        lead_mgmt.aging, lead_mgmt.time_in_status;
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace = 'lead_mgmt'::regnamespace
                AND p.proname IN ('status_counts_at', 'funnel', 'advance_category', 'next_category',
                                  'history_persons')
    LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION lead_mgmt.drop_analytics() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.drop_analytics() IS
    'Internal: drop what build_analytics() created (drop_views() does)';

CREATE FUNCTION lead_mgmt.build_analytics() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $build$
DECLARE
    r lead_mgmt.registration;
    composite boolean;
    ctype text;
    ptype text;
    who text;          -- the columns that name a person in the history
    exists_person text;
    col record;
    body text;
BEGIN
    SELECT * INTO r FROM lead_mgmt.registration;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_mgmt manages no tables'
            USING ERRCODE = '42704', HINT = 'Call lead_mgmt.manage(company_table => ..., person_table => ...) first.';
    END IF;
    PERFORM lead_mgmt.drop_analytics();
    SELECT i.indnkeyatts = 2 INTO composite FROM pg_index i
     WHERE i.indrelid = r.person_table AND i.indisprimary;
    composite := coalesce(composite, false);
    SELECT format_type(a.atttypid, a.atttypmod) INTO ctype FROM pg_attribute a
     WHERE a.attrelid = r.company_table AND a.attname = r.company_key;
    SELECT format_type(a.atttypid, a.atttypmod) INTO ptype FROM pg_attribute a
     WHERE a.attrelid = r.person_table AND a.attname = r.person_key;

    -- A1: advance_category() and next_category() take the company key type.
    -- The names of the user's tables and columns reach the bodies only as
    -- quoted literals (%L), and the bodies the CREATE statements only as a
    -- quoted literal: no name can end a string or a dollar quote early.
    body := format($body$
DECLARE
    target lead_mgmt.category;
    current_key text;
    current_group lead_mgmt.category_group;
    found_rows bigint;
BEGIN
    IF company_id IS NULL OR category_key IS NULL THEN
        RAISE EXCEPTION 'lead_mgmt.advance_category() needs a company and a category, not %%',
                        CASE WHEN company_id IS NULL THEN 'a NULL company' ELSE 'a NULL category' END
            USING ERRCODE = '22004', HINT = 'Pass the company''s key and a key of lead_mgmt.category.';
    END IF;
    SELECT * INTO target FROM lead_mgmt.category k WHERE k.key = category_key;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'category "%%" does not exist', category_key
            USING ERRCODE = '23503',
                  HINT = format('Categories are: %%s.', (SELECT string_agg(k.key, ', ' ORDER BY k.rank, k.key)
                                                        FROM lead_mgmt.category k WHERE NOT k.deleted));
    END IF;
    IF target.deleted THEN
        RAISE EXCEPTION 'category "%%" is deleted', category_key
            USING ERRCODE = '23L03', HINT = 'Restore it (deleted = false) or advance to another category.';
    END IF;
    -- lock the company first, then read its category (lock, then read)
    EXECUTE %1$L INTO current_key USING company_id;
    GET DIAGNOSTICS found_rows = ROW_COUNT;
    IF found_rows = 0 THEN
        RAISE EXCEPTION 'company %% does not exist', company_id
            USING ERRCODE = '23503', HINT = %3$L;
    END IF;
    SELECT k.category_group INTO current_group FROM lead_mgmt.category k WHERE k.key = current_key;
    -- A1: only a potential customer (or a company without a category) moves
    IF current_key IS NOT NULL AND current_group IS DISTINCT FROM 'potential_customer' THEN
        RETURN false;
    END IF;
    IF current_key IS NOT DISTINCT FROM category_key THEN
        RETURN false;
    END IF;
    EXECUTE %2$L USING company_id, category_key;
    RETURN true;
END
$body$,
        format('SELECT c.%s::text FROM ONLY %s c WHERE c.%s OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE',
               quote_ident(r.category_column), r.company_table::text, quote_ident(r.company_key)),
        format('UPDATE ONLY %s c SET %s = $2 WHERE c.%s OPERATOR(pg_catalog.=) $1',
               r.company_table::text, quote_ident(r.category_column), quote_ident(r.company_key)),
        format('Pass the key of a company of %s.', r.company_table::text));
    EXECUTE format('CREATE FUNCTION lead_mgmt.advance_category(company_id %s, category_key text) RETURNS boolean'
                   ' LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS %L', ctype, body);
    COMMENT ON FUNCTION lead_mgmt.advance_category IS
        'Rule A1: set the company''s category, only while it is a potential customer (or has no category); never moves a customer, partner, lost or other company; returns whether it changed anything';

    body := format($body$
DECLARE
    current_key text;
    current_rank integer;
    current_group lead_mgmt.category_group;
    found_rows bigint;
BEGIN
    IF company_id IS NULL THEN
        RAISE EXCEPTION 'lead_mgmt.next_category() needs a company, not NULL'
            USING ERRCODE = '22004', HINT = 'Pass the company''s key.';
    END IF;
    EXECUTE %1$L INTO current_key USING company_id;
    GET DIAGNOSTICS found_rows = ROW_COUNT;
    IF found_rows = 0 THEN
        RAISE EXCEPTION 'company %% does not exist', company_id
            USING ERRCODE = '23503', HINT = %2$L;
    END IF;
    SELECT k.rank, k.category_group INTO current_rank, current_group
      FROM lead_mgmt.category k WHERE k.key = current_key;
    IF current_key IS NOT NULL AND current_group IS DISTINCT FROM 'potential_customer' THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT k.key FROM lead_mgmt.category k
             WHERE k.category_group = 'potential_customer' AND NOT k.deleted
               AND (current_key IS NULL OR (k.rank, k.key) > (current_rank, current_key))
             ORDER BY k.rank, k.key LIMIT 1);
END
$body$,
        format('SELECT c.%s::text FROM ONLY %s c WHERE c.%s OPERATOR(pg_catalog.=) $1',
               quote_ident(r.category_column), r.company_table::text, quote_ident(r.company_key)),
        format('Pass the key of a company of %s.', r.company_table::text));
    EXECUTE format('CREATE FUNCTION lead_mgmt.next_category(company_id %s) RETURNS text'
                   ' LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS %L', ctype, body);
    COMMENT ON FUNCTION lead_mgmt.next_category IS
        'The category after the company''s in group potential_customer, by rank then key (NULL: none left, or the company is not a potential customer); lead_mgmt.advance_category(id, lead_mgmt.next_category(id)) moves it on';
    EXECUTE format('GRANT EXECUTE ON FUNCTION lead_mgmt.advance_category(%s, text), lead_mgmt.next_category(%s) TO PUBLIC',
                   ctype, ctype);

    -- A2: suggest-only rules whose status persons of a lead-enabled company hold
    EXECUTE format($v$
CREATE VIEW lead_mgmt.category_suggestions WITH (security_invoker = true) AS
SELECT c.%1$s AS company_id, c.%2$s AS category, coalesce(kl.name, k.name) AS category_name,
       r.category AS suggested_category, coalesce(tl.name, t.name) AS suggested_category_name,
       r.status AS lead_status, coalesce(stl.name, st.name) AS status_name,
       pg_catalog.count(*) AS persons
  FROM ONLY %3$s c
  JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) c.%2$s AND k.enable_lead_status
  JOIN ONLY %4$s p ON p.%5$s OPERATOR(pg_catalog.=) c.%1$s
  JOIN lead_mgmt.category_rule r ON r.status OPERATOR(pg_catalog.=) p.%6$s
                                AND r.enabled AND NOT r.automatic
                                AND r.category OPERATOR(pg_catalog.<>) c.%2$s
  JOIN lead_mgmt.category t ON t.key OPERATOR(pg_catalog.=) r.category AND NOT t.deleted
  JOIN lead_mgmt.lead_status st ON st.key OPERATOR(pg_catalog.=) r.status
  LEFT JOIN lead_mgmt.category_label kl
         ON kl.category OPERATOR(pg_catalog.=) k.key AND kl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
  LEFT JOIN lead_mgmt.category_label tl
         ON tl.category OPERATOR(pg_catalog.=) t.key AND tl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
  LEFT JOIN lead_mgmt.lead_status_label stl
         ON stl.status OPERATOR(pg_catalog.=) st.key AND stl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
 GROUP BY c.%1$s, c.%2$s, coalesce(kl.name, k.name), r.category, coalesce(tl.name, t.name), r.status,
          coalesce(stl.name, st.name)
$v$, quote_ident(r.company_key), quote_ident(r.category_column), r.company_table::text,
        r.person_table::text, quote_ident(r.company_column), quote_ident(r.lead_status_column));
    COMMENT ON VIEW lead_mgmt.category_suggestions IS
        'Rule A2, suggest only: companies whose category is lead-enabled and whose persons hold a status with an enabled suggest-only rule to another category; gone once the category changes';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.company_id IS 'Key of the company';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.category IS 'Its category now';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.category_name IS 'Name of that category in lead_mgmt.language';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.suggested_category IS 'The category the rule suggests';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.suggested_category_name IS 'Name of the suggested category in lead_mgmt.language';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.lead_status IS 'The status of the rule';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.status_name IS 'Name of the status in lead_mgmt.language';
    COMMENT ON COLUMN lead_mgmt.category_suggestions.persons IS 'Persons of the company holding that status';
    GRANT SELECT ON lead_mgmt.category_suggestions TO PUBLIC;

    IF to_regclass('lead_mgmt.status_history') IS NULL THEN
        RETURN;
    END IF;

    who := CASE WHEN composite THEN 'h.company_id, h.person_id' ELSE 'h.person_id' END;
    exists_person := format('EXISTS (SELECT FROM ONLY %s p WHERE p.%I OPERATOR(pg_catalog.=) h.person_id%s)',
                            r.person_table::text, r.person_key,
                            CASE WHEN composite THEN format(' AND p.%I OPERATOR(pg_catalog.=) h.company_id', r.company_column)
                                 ELSE '' END);

    -- The history rows of the persons there are now: who the person is
    -- (person_ref), whether a row starts a stay, and whether the person's
    -- status shows now (the last row's visible).
    body := format($body$
SELECT x.seq, x.company_id, x.person_id, x.person_ref, x.from_status, x.to_status, x.event, x.category,
       x.changed_at, x.visible, x.stay_start,
       last_value(x.visible) OVER (PARTITION BY x.person_ref ORDER BY x.seq
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  FROM (SELECT h.seq, h.company_id, h.person_id, %5$s AS person_ref, h.from_status, h.to_status,
               h.event, h.category, h.changed_at, h.visible,
               (lag(h.to_status) OVER w) IS DISTINCT FROM h.to_status AS stay_start
          FROM lead_mgmt.status_history h
         WHERE %4$s
        WINDOW w AS (PARTITION BY %3$s ORDER BY h.seq)) x
$body$,
        ctype, ptype, who, exists_person,
        CASE WHEN composite THEN 'row(h.company_id, h.person_id)::text' ELSE 'h.person_id::text' END);
    EXECUTE format($f$
CREATE FUNCTION lead_mgmt.history_persons()
    RETURNS TABLE (seq bigint, company_id %1$s, person_id %2$s, person_ref text,
                   from_status text, to_status text, event lead_mgmt.history_event, category text,
                   changed_at timestamptz, visible boolean, stay_start boolean, now_visible boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS %6$L$f$,
        ctype, ptype, who, exists_person,
        CASE WHEN composite THEN 'row(h.company_id, h.person_id)::text' ELSE 'h.person_id::text' END, body);
    GRANT EXECUTE ON FUNCTION lead_mgmt.history_persons() TO PUBLIC;
    COMMENT ON FUNCTION lead_mgmt.history_persons() IS
        'The status history of the persons there are now, with who the person is (person_ref), whether a row starts a stay in a status, and whether the person''s status shows now';

    -- status_counts_at(at): the counts of lead_mgmt.status_counts, as they were
    body := format($body$
SELECT s.key, sl.name, s.rank, s.kind,
       coalesce(n.visible, 0), coalesce(n.retained, 0), coalesce(n.visible + n.retained, 0)
  FROM lead_mgmt.lead_status s
  LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) sl ON true
  LEFT JOIN (SELECT l.to_status,
                    count(*) FILTER (WHERE l.visible) AS visible,
                    count(*) FILTER (WHERE NOT l.visible) AS retained
               FROM (SELECT DISTINCT ON (%1$s) h.to_status, h.visible
                       FROM lead_mgmt.status_history h
                      WHERE h.changed_at <= "at" AND %2$s
                      ORDER BY %1$s, h.seq DESC) l
              WHERE l.to_status IS NOT NULL
              GROUP BY l.to_status) n ON n.to_status = s.key
 WHERE NOT s.deleted OR n.visible + n.retained > 0
 ORDER BY s.rank, s.key
$body$,
        who, exists_person);
    EXECUTE format($f$
CREATE FUNCTION lead_mgmt.status_counts_at("at" timestamptz)
    RETURNS TABLE (lead_status text, status_name text, rank integer, kind lead_mgmt.status_kind,
                   visible bigint, retained bigint, total bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS %3$L$f$,
        who, exists_person, body);
    GRANT EXECUTE ON FUNCTION lead_mgmt.status_counts_at(timestamptz) TO PUBLIC;
    COMMENT ON FUNCTION lead_mgmt.status_counts_at(timestamptz) IS
        'Persons per lead status, shown (visible) and kept while hidden (retained), as they were at the given moment, replayed from the status history (the persons there are now); equals lead_mgmt.status_counts at now()';

    -- Time in status: completed stays and the stays still open
    CREATE VIEW lead_mgmt.time_in_status WITH (security_invoker = true) AS
    WITH stays AS (
        SELECT h.to_status, h.changed_at AS start_at, h.now_visible,
               lead(h.changed_at) OVER (PARTITION BY h.person_ref ORDER BY h.seq) AS end_at
          FROM lead_mgmt.history_persons() h
         WHERE h.stay_start),
    st AS (SELECT * FROM stays WHERE stays.to_status IS NOT NULL)
    SELECT s.key AS lead_status, sl.name AS status_name, s.rank, s.kind,
           count(st.end_at) AS completed_stays,
           avg(st.end_at - st.start_at) AS avg_duration,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY st.end_at - st.start_at) AS median_duration,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY st.end_at - st.start_at) AS p90_duration,
           round((extract(epoch FROM avg(st.end_at - st.start_at)) / 86400)::numeric, 2) AS avg_days,
           round((extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY st.end_at - st.start_at)) / 86400)::numeric, 2)
               AS median_days,
           round((extract(epoch FROM percentile_cont(0.9) WITHIN GROUP (ORDER BY st.end_at - st.start_at)) / 86400)::numeric, 2)
               AS p90_days,
           count(*) FILTER (WHERE st.end_at IS NULL AND st.now_visible) AS open_stays,
           avg(now() - st.start_at) FILTER (WHERE st.end_at IS NULL AND st.now_visible) AS avg_open_age,
           round((extract(epoch FROM avg(now() - st.start_at) FILTER (WHERE st.end_at IS NULL AND st.now_visible))
                  / 86400)::numeric, 2) AS avg_open_days
      FROM lead_mgmt.lead_status s
      LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) sl ON true
      LEFT JOIN st ON st.to_status = s.key
     GROUP BY s.key, sl.name, s.rank, s.kind, s.deleted
    HAVING NOT s.deleted OR count(st.to_status) > 0
     ORDER BY s.rank, s.key;
    COMMENT ON VIEW lead_mgmt.time_in_status IS
        'Dashboard tile: per lead status, completed stays (count, average, median, 90th percentile) and the stays still open of shown statuses (count, average age); a stay lasts from the change that set the status to the change that set another (hides and re-shows do not end it)';

    -- Aging: shown leads per status by days in status
    CREATE VIEW lead_mgmt.aging WITH (security_invoker = true) AS
    SELECT s.key AS lead_status, coalesce(sl.name, s.name) AS status_name, s.rank, s.stale_after_days,
           count(pl.person_id) AS leads,
           count(*) FILTER (WHERE pl.days_in_status BETWEEN 0 AND 7) AS days_0_7,
           count(*) FILTER (WHERE pl.days_in_status BETWEEN 8 AND 30) AS days_8_30,
           count(*) FILTER (WHERE pl.days_in_status BETWEEN 31 AND 90) AS days_31_90,
           count(*) FILTER (WHERE pl.days_in_status > 90) AS days_over_90,
           count(*) FILTER (WHERE pl.person_id IS NOT NULL AND pl.days_in_status IS NULL) AS days_unknown,
           count(*) FILTER (WHERE pl.days_in_status > s.stale_after_days) AS stale
      FROM lead_mgmt.lead_status s
      LEFT JOIN lead_mgmt.lead_status_label sl
             ON sl.status OPERATOR(pg_catalog.=) s.key AND sl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
      LEFT JOIN lead_mgmt.person_leads pl ON pl.lead_status = s.key AND pl.visible
     GROUP BY s.key, coalesce(sl.name, s.name), s.rank, s.stale_after_days, s.deleted
    HAVING NOT s.deleted OR count(pl.person_id) > 0
     ORDER BY s.rank, s.key;
    COMMENT ON VIEW lead_mgmt.aging IS
        'Dashboard tile: shown leads per status by whole days in status (0-7, 8-30, 31-90, over 90; unknown without history), and those in it longer than its stale_after_days (stale)';

    -- The funnel, for any period and categories
    CREATE FUNCTION lead_mgmt.funnel(period_start timestamptz, period_end timestamptz,
                                     categories text[] DEFAULT NULL)
        RETURNS TABLE (variant text, "position" bigint, lead_status text, status_name text,
                       kind lead_mgmt.status_kind, persons bigint,
                       step_conversion numeric, cumulative_conversion numeric)
        LANGUAGE sql STABLE
        SET search_path = pg_catalog, pg_temp
    AS $body$
    WITH stages AS (
        SELECT s.key, s.kind, row_number() OVER (ORDER BY s.kind, s.rank, s.key) AS pos
          FROM lead_mgmt.lead_status s
         WHERE NOT s.deleted AND s.kind IN ('open', 'working', 'qualified')),
    h AS (
        SELECT hp.*, min(hp.seq) FILTER (WHERE hp.visible) OVER (PARTITION BY hp.person_ref) AS first_seq
          FROM lead_mgmt.history_persons() hp),
    -- the persons who became leads in the period (in the categories)
    cohort AS (
        SELECT h.person_ref FROM h
         WHERE h.seq = h.first_seq
           AND (period_start IS NULL OR h.changed_at >= period_start)
           AND (period_end IS NULL OR h.changed_at < period_end)
           AND (categories IS NULL OR h.category = ANY (categories))),
    -- the first time each reached each status, up to the period's end
    reached AS (
        SELECT h.person_ref, h.to_status, min(h.seq) AS first_seq
          FROM h JOIN cohort c ON c.person_ref = h.person_ref
         WHERE h.visible AND h.to_status IS NOT NULL
           AND (period_end IS NULL OR h.changed_at < period_end)
         GROUP BY h.person_ref, h.to_status),
    per AS (
        SELECT r.person_ref, s.pos, r.first_seq,
               lag(r.first_seq) OVER w AS prev_seq, row_number() OVER w AS n
          FROM reached r JOIN stages s ON s.key = r.to_status
        WINDOW w AS (PARTITION BY r.person_ref ORDER BY s.pos)),
    -- strict: every earlier stage reached, each before the next
    strict AS (
        SELECT per.person_ref, per.pos,
               bool_and(per.n = per.pos AND (per.prev_seq IS NULL OR per.first_seq > per.prev_seq))
                   OVER (PARTITION BY per.person_ref ORDER BY per.pos) AS in_order
          FROM per),
    -- any: this stage or a later one reached
    furthest AS (
        SELECT per.person_ref, max(per.pos) AS pos FROM per GROUP BY per.person_ref),
    counts AS (
        SELECT v.variant, s.pos, s.key, s.kind,
               CASE v.variant
                   WHEN 'any' THEN (SELECT count(*) FROM furthest f WHERE f.pos >= s.pos)
                   ELSE (SELECT count(*) FROM strict x WHERE x.pos = s.pos AND x.in_order) END AS persons
          FROM stages s CROSS JOIN (VALUES ('strict'), ('any')) v (variant))
    SELECT c.variant, c.pos, c.key, sl.name, c.kind, c.persons,
           round(c.persons::numeric / nullif(lag(c.persons) OVER w, 0), 4),
           round(c.persons::numeric / nullif(first_value(c.persons) OVER w, 0), 4)
      FROM counts c
      LEFT JOIN LATERAL lead_mgmt.status_labels(c.key) sl ON true
    WINDOW w AS (PARTITION BY c.variant ORDER BY c.pos)
    UNION ALL
    -- beside the funnel: the persons of the cohort who reached a
    -- disqualified or nurture status, as a share of the cohort
    SELECT v.variant, NULL, s.key, sl.name, s.kind, count(r.person_ref),
           NULL, round(count(r.person_ref)::numeric / nullif((SELECT count(*) FROM cohort), 0), 4)
      FROM lead_mgmt.lead_status s
     CROSS JOIN (VALUES ('strict'), ('any')) v (variant)
      LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) sl ON true
      LEFT JOIN reached r ON r.to_status = s.key
     WHERE s.kind IN ('disqualified', 'nurture') AND (NOT s.deleted OR r.person_ref IS NOT NULL)
     GROUP BY v.variant, s.key, sl.name, s.kind, s.rank
     ORDER BY 1 DESC, 2 NULLS LAST, 3
    $body$;
    GRANT EXECUTE ON FUNCTION lead_mgmt.funnel(timestamptz, timestamptz, text[]) TO PUBLIC;
    COMMENT ON FUNCTION lead_mgmt.funnel(timestamptz, timestamptz, text[]) IS
        'The lead funnel of the persons who became leads in [period_start, period_end) in one of the categories (NULL: any), followed up to period_end: per stage (statuses of kind open, working, qualified, by kind and rank) the persons who reached it, step and cumulative conversion; strict counts those who reached every earlier stage first, any those who reached this stage or a later one; rows without a position: disqualified and nurture statuses reached, as a share of the cohort';

    CREATE VIEW lead_mgmt.funnel WITH (security_invoker = true) AS
    SELECT f.variant, f.position, f.lead_status, f.status_name, f.kind, f.persons,
           f.step_conversion, f.cumulative_conversion
      FROM lead_mgmt.funnel(NULL, NULL, NULL) f;
    COMMENT ON VIEW lead_mgmt.funnel IS
        'Dashboard tile: the lead funnel over all history (lead_mgmt.funnel(period_start, period_end, categories) for a period); see that function';

    -- New leads: persons whose status became shown (created under a
    -- lead-enabled category, or entering one), per day, week and month
    CREATE VIEW lead_mgmt.new_leads WITH (security_invoker = true) AS
    SELECT g.period, g.period_start, g.category, kl.name AS category_name,
           g.leads, g.created, g.entered
      FROM (SELECT p.period, (date_trunc(p.period, h.changed_at))::date AS period_start, h.category,
                   count(DISTINCT h.person_ref) AS leads,
                   count(DISTINCT h.person_ref) FILTER (WHERE h.event IN ('created', 'set')) AS created,
                   count(DISTINCT h.person_ref) FILTER (WHERE h.event IN ('entered', 'shown')) AS entered
              FROM lead_mgmt.history_persons() h
             CROSS JOIN (VALUES ('day'), ('week'), ('month')) p (period)
             WHERE h.visible
               AND (h.event IN ('created', 'entered', 'shown')
                    OR (h.event = 'set' AND h.from_status IS NULL))
             GROUP BY p.period, 2, h.category) g
      LEFT JOIN LATERAL lead_mgmt.category_labels(g.category) kl ON true
     ORDER BY CASE g.period WHEN 'day' THEN 1 WHEN 'week' THEN 2 ELSE 3 END, g.period_start, g.category;
    COMMENT ON VIEW lead_mgmt.new_leads IS
        'Dashboard tile: persons who became leads per day, week (from Monday) and month in the session''s time zone, per category: created (inserted with a shown status) and entered (their company''s category became lead-enabled, or they moved into such a company)';

    GRANT SELECT ON lead_mgmt.time_in_status, lead_mgmt.aging, lead_mgmt.funnel, lead_mgmt.new_leads TO PUBLIC;

    -- column comments (BI tools show them)
    FOR col IN
        SELECT * FROM (VALUES
            ('time_in_status', 'completed_stays', 'Stays in the status that ended (the person got another status)'),
            ('time_in_status', 'avg_duration', 'Average length of the completed stays'),
            ('time_in_status', 'median_duration', 'Median length of the completed stays'),
            ('time_in_status', 'p90_duration', '90th percentile of the length of the completed stays'),
            ('time_in_status', 'avg_days', 'avg_duration in days'),
            ('time_in_status', 'median_days', 'median_duration in days'),
            ('time_in_status', 'p90_days', 'p90_duration in days'),
            ('time_in_status', 'open_stays', 'Persons in the status now, shown'),
            ('time_in_status', 'avg_open_age', 'Average time the open stays have lasted so far'),
            ('time_in_status', 'avg_open_days', 'avg_open_age in days'),
            ('aging', 'stale_after_days', 'A lead longer than this in the status is stale (NULL: never)'),
            ('aging', 'leads', 'Persons with the status shown'),
            ('aging', 'days_0_7', 'Of those, in the status 0 to 7 whole days'),
            ('aging', 'days_8_30', 'Of those, 8 to 30 days'),
            ('aging', 'days_31_90', 'Of those, 31 to 90 days'),
            ('aging', 'days_over_90', 'Of those, more than 90 days'),
            ('aging', 'days_unknown', 'Of those, since an unknown time (no history)'),
            ('aging', 'stale', 'Of those, in the status longer than stale_after_days'),
            ('funnel', 'variant', 'strict: persons who reached every earlier stage first; any: persons who reached this stage or a later one'),
            ('funnel', 'position', 'Stage of the funnel, 1 first (NULL: a disqualified or nurture status beside the funnel)'),
            ('funnel', 'persons', 'Persons of the cohort who reached the stage'),
            ('funnel', 'step_conversion', 'persons / persons of the stage before'),
            ('funnel', 'cumulative_conversion', 'persons / persons of the first stage (beside the funnel: / the cohort)'),
            ('new_leads', 'period', 'day, week or month'),
            ('new_leads', 'period_start', 'First day of the period'),
            ('new_leads', 'leads', 'Persons who became leads in the period'),
            ('new_leads', 'created', 'Of those, inserted with a shown status'),
            ('new_leads', 'entered', 'Of those, whose company''s category became lead-enabled or who moved into such a company')
        ) AS t (view, name, comment)
    LOOP
        EXECUTE format('COMMENT ON COLUMN lead_mgmt.%I.%I IS %L', col.view, col.name, col.comment);
    END LOOP;
    FOR col IN
        SELECT a.attrelid::regclass AS view, a.attname AS name, t.comment
          FROM pg_attribute a
          JOIN (VALUES ('lead_status', 'Key of the lead status'),
                       ('status_name', 'Name of the lead status in lead_mgmt.language'),
                       ('rank', 'Rank of the lead status'),
                       ('kind', 'Kind of the lead status'),
                       ('category', 'Key of the category'),
                       ('category_name', 'Name of the category in lead_mgmt.language')) t (name, comment)
            ON t.name = a.attname
         WHERE a.attrelid IN ('lead_mgmt.time_in_status'::regclass, 'lead_mgmt.aging'::regclass,
                              'lead_mgmt.funnel'::regclass, 'lead_mgmt.new_leads'::regclass)
    LOOP
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', col.view, col.name, col.comment);
    END LOOP;
END
$build$;
REVOKE EXECUTE ON FUNCTION lead_mgmt.build_analytics() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.build_analytics() IS
    'Internal: (re)create the analytics over the status history and the A1 functions (build_views() does)';
