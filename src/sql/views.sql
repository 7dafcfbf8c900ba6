/*
 * lead_mgmt views, saved selections and catalog comments.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * The Makefile appends this file to the install script and to the upgrade
 * script from the last release, so both create the same objects.
 *
 * The views read the CRM's own tables, whose names and key types only
 * lead_mgmt.manage() learns: lead_mgmt.build_views() writes them from the
 * registration (manage() and start_history() call it; unmanage() drops
 * them).  They refer to the tables and columns by OID, so renames are
 * followed; an event trigger takes them off while a managed table is
 * dropped or a column it reads is retyped or dropped, and puts them back at
 * the end of that command.
 */

------------------------------------------------------------------------------
-- Comments on the catalogs' columns (BI tools show them)
------------------------------------------------------------------------------

COMMENT ON COLUMN lead_mgmt.category.key IS 'Stable key of the category (lower case); stored in the company table''s category column';
COMMENT ON COLUMN lead_mgmt.category.name IS 'English name; other languages in lead_mgmt.category_label';
COMMENT ON COLUMN lead_mgmt.category.description IS 'English description (tooltip)';
COMMENT ON COLUMN lead_mgmt.category.category_group IS 'The fixed group the category belongs to';
COMMENT ON COLUMN lead_mgmt.category.enable_lead_status IS 'Persons of companies in this category show and edit a lead status (only in group potential_customer, rule C1)';
COMMENT ON COLUMN lead_mgmt.category.rank IS 'Sort order; equal ranks are ordered by key';
COMMENT ON COLUMN lead_mgmt.category.deleted IS 'Soft-deleted: kept for the companies that have it, not offered for new values';
COMMENT ON COLUMN lead_mgmt.lead_status.key IS 'Stable key of the status (lower case); stored in the person table''s lead_status column';
COMMENT ON COLUMN lead_mgmt.lead_status.name IS 'English name; other languages in lead_mgmt.lead_status_label';
COMMENT ON COLUMN lead_mgmt.lead_status.description IS 'English description (tooltip)';
COMMENT ON COLUMN lead_mgmt.lead_status.kind IS 'What the status means for funnels and dashboards';
COMMENT ON COLUMN lead_mgmt.lead_status.rank IS 'Board column order; equal ranks are ordered by key';
COMMENT ON COLUMN lead_mgmt.lead_status.is_default IS 'The status a person gets on insert and on entering a lead-enabled category (exactly one, rule S1)';
COMMENT ON COLUMN lead_mgmt.lead_status.deleted IS 'Soft-deleted: kept on the persons that have it, not offered for new values';
COMMENT ON COLUMN lead_mgmt.lead_status.stale_after_days IS 'A lead in this status longer than this many days counts as stale (NULL: never)';
COMMENT ON COLUMN lead_mgmt.lead_status.shipped IS 'Row ships with lead_mgmt; maintained by the extension';
COMMENT ON COLUMN lead_mgmt.status_transition.from_status IS 'A status with rows here may only move to the listed to_status values';
COMMENT ON COLUMN lead_mgmt.status_transition.to_status IS 'An allowed next status';
COMMENT ON TABLE lead_mgmt.category_label IS 'Category names and descriptions per language';
COMMENT ON COLUMN lead_mgmt.category_label.category IS 'The category';
COMMENT ON COLUMN lead_mgmt.category_label.language IS 'Language code, as in lead_mgmt.language (en, nb, ...)';
COMMENT ON COLUMN lead_mgmt.category_label.name IS 'Name in that language';
COMMENT ON COLUMN lead_mgmt.category_label.description IS 'Description in that language';
COMMENT ON COLUMN lead_mgmt.category_label.shipped IS 'Row ships with lead_mgmt; maintained by the extension';
COMMENT ON TABLE lead_mgmt.lead_status_label IS 'Lead status names and descriptions per language';
COMMENT ON COLUMN lead_mgmt.lead_status_label.status IS 'The lead status';
COMMENT ON COLUMN lead_mgmt.lead_status_label.language IS 'Language code, as in lead_mgmt.language (en, nb, ...)';
COMMENT ON COLUMN lead_mgmt.lead_status_label.name IS 'Name in that language';
COMMENT ON COLUMN lead_mgmt.lead_status_label.description IS 'Description in that language';
COMMENT ON COLUMN lead_mgmt.lead_status_label.shipped IS 'Row ships with lead_mgmt; maintained by the extension';
COMMENT ON TABLE lead_mgmt.category_group_label IS 'Category group names per language (English included)';
COMMENT ON COLUMN lead_mgmt.category_group_label.category_group IS 'The category group';
COMMENT ON COLUMN lead_mgmt.category_group_label.language IS 'Language code, as in lead_mgmt.language (en, nb, ...)';
COMMENT ON COLUMN lead_mgmt.category_group_label.name IS 'Name in that language';
COMMENT ON COLUMN lead_mgmt.category_group_label.description IS 'Description in that language';
COMMENT ON COLUMN lead_mgmt.category_group_label.shipped IS 'Row ships with lead_mgmt; maintained by the extension';
COMMENT ON COLUMN lead_mgmt.registration.singleton IS 'Always true: one managed pair per database';
COMMENT ON COLUMN lead_mgmt.registration.company_key IS 'Primary key column of the company table';
COMMENT ON COLUMN lead_mgmt.registration.person_key IS 'Primary key column of the person table (the one that is not the company column)';
COMMENT ON COLUMN lead_mgmt.registration.company_column IS 'Column of the person table naming the company';
COMMENT ON COLUMN lead_mgmt.registration.category_column IS 'Column of the company table holding the category key';
COMMENT ON COLUMN lead_mgmt.registration.lead_status_column IS 'Column of the person table holding the lead status key';
COMMENT ON COLUMN lead_mgmt.registration.label_column IS 'Column of the person table shown on cards (optional)';
COMMENT ON COLUMN lead_mgmt.registration.owner_column IS 'Column of the person table naming the owner, for the boards and counts per owner (optional)';
COMMENT ON COLUMN lead_mgmt.registration.category_fkey IS 'Foreign key manage() added from the company table to lead_mgmt.category';
COMMENT ON COLUMN lead_mgmt.registration.lead_status_fkey IS 'Foreign key manage() added from the person table to lead_mgmt.lead_status';
COMMENT ON COLUMN lead_mgmt.registration.managed_at IS 'When manage() was called';
COMMENT ON COLUMN lead_mgmt.registration.company_table IS 'The managed company table';
COMMENT ON COLUMN lead_mgmt.registration.person_table IS 'The managed person table';
COMMENT ON COLUMN lead_mgmt.settle_marker.queued_at IS 'Internal';

------------------------------------------------------------------------------
-- Texts of the views that are not catalog labels
------------------------------------------------------------------------------

CREATE FUNCTION lead_mgmt.no_owner_label() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE lead_mgmt.current_language() WHEN 'nb' THEN 'Ingen eier' ELSE 'No owner' END;
END;
COMMENT ON FUNCTION lead_mgmt.no_owner_label() IS
    'Name of the board column and count row of leads without an owner, in lead_mgmt.language';

------------------------------------------------------------------------------
-- Saved selections
------------------------------------------------------------------------------

CREATE TABLE lead_mgmt.selection (
    name        text PRIMARY KEY CONSTRAINT selection_name_present CHECK (btrim(name) <> ''),
    entity      text NOT NULL DEFAULT 'person'
                CONSTRAINT selection_entity_known CHECK (entity IN ('person', 'company')),
    criteria    jsonb NOT NULL DEFAULT '{}',
    description text,
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE lead_mgmt.selection IS
    'Saved dynamic selections of persons or companies; lead_mgmt.selection_members(name) evaluates one now';
COMMENT ON COLUMN lead_mgmt.selection.name IS 'Name of the selection';
COMMENT ON COLUMN lead_mgmt.selection.entity IS 'person or company: what the selection lists';
COMMENT ON COLUMN lead_mgmt.selection.criteria IS
    'A JSON object; every member combined with AND: lead_status, not_lead_status, category, not_category, category_group, not_category_group, owner, not_owner (arrays of keys), days_in_status_at_least (a number); a company selection takes the category ones only';
COMMENT ON COLUMN lead_mgmt.selection.description IS 'Free text';
COMMENT ON COLUMN lead_mgmt.selection.created_by IS 'Who saved it; only they and lead_mgmt_admin may change it';
COMMENT ON COLUMN lead_mgmt.selection.created_at IS 'When it was saved';

-- Criteria are checked when a selection is saved: unknown members, wrong
-- types and unknown keys are refused, naming the value.  Deleted statuses
-- and categories are keys that exist: persons may still have them.
CREATE FUNCTION lead_mgmt.selection_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    member text;
    value jsonb;
    element jsonb;
    allowed text[] := CASE NEW.entity WHEN 'company'
        THEN ARRAY['category', 'not_category', 'category_group', 'not_category_group']
        ELSE ARRAY['lead_status', 'not_lead_status', 'category', 'not_category', 'category_group',
                   'not_category_group', 'owner', 'not_owner', 'days_in_status_at_least'] END;
    -- while a dump is restored (check_function_bodies off, as pg_dump's
    -- output sets it) the catalogs' rows may come after the selections', in
    -- any order: their keys were checked when the selections were saved
    restoring boolean := NOT current_setting('check_function_bodies')::boolean;
BEGIN
    IF NEW.name IS NOT NULL
       AND NEW.name ~ '^[\s\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]*$' THEN
        RAISE EXCEPTION 'the name of a selection must not be blank, not %', quote_literal(NEW.name)
            USING ERRCODE = '23514', HINT = 'Name the selection, for example ''Stale leads''.';
    END IF;
    IF NEW.entity IS DISTINCT FROM 'person' AND NEW.entity IS DISTINCT FROM 'company' THEN
        RAISE EXCEPTION 'selection "%" lists %, not persons or companies', NEW.name, coalesce(quote_literal(NEW.entity), 'NULL')
            USING ERRCODE = '23514', HINT = 'Set entity to ''person'' or ''company''.';
    END IF;
    IF jsonb_typeof(NEW.criteria) <> 'object' THEN
        RAISE EXCEPTION 'criteria of selection "%" must be a JSON object, not %', NEW.name, NEW.criteria
            USING ERRCODE = '22023',
                  HINT = 'For example {"lead_status": ["open", "contacting"], "days_in_status_at_least": 14}.';
    END IF;
    FOR member, value IN SELECT * FROM jsonb_each(NEW.criteria) LOOP
        IF NOT member = ANY (allowed) THEN
            RAISE EXCEPTION 'unknown criterion "%" in selection "%"', member, NEW.name
                USING ERRCODE = '22023',
                      HINT = format('A %s selection takes: %s.', NEW.entity, array_to_string(allowed, ', '));
        END IF;
        IF member = 'days_in_status_at_least' THEN
            IF jsonb_typeof(value) <> 'number' OR value::text::numeric < 0
               OR value::text::numeric <> trunc(value::text::numeric) OR value::text::numeric > 1000000000 THEN
                RAISE EXCEPTION 'criterion days_in_status_at_least of selection "%" must be a whole number of days, not %',
                                NEW.name, value
                    USING ERRCODE = '22023', HINT = 'A number from 0 to 1000000000, for example {"days_in_status_at_least": 30}.';
            END IF;
            CONTINUE;
        END IF;
        IF jsonb_typeof(value) <> 'array' OR jsonb_array_length(value) = 0 THEN
            RAISE EXCEPTION 'criterion % of selection "%" must be a non-empty array of keys, not %',
                            member, NEW.name, value
                USING ERRCODE = '22023', HINT = format('For example {"%s": ["%s"]}.', member,
                    CASE WHEN member LIKE '%lead_status' THEN 'open'
                         WHEN member LIKE '%category_group' THEN 'potential_customer'
                         WHEN member LIKE '%category' THEN 'lead' ELSE 'alice' END);
        END IF;
        FOR element IN SELECT * FROM jsonb_array_elements(value) LOOP
            IF jsonb_typeof(element) <> 'string' THEN
                RAISE EXCEPTION 'criterion % of selection "%" lists %, which is not a string', member, NEW.name, element
                    USING ERRCODE = '22023', HINT = 'List keys as JSON strings.';
            END IF;
            IF restoring THEN
                CONTINUE;
            ELSIF member LIKE '%lead_status'
               AND NOT EXISTS (SELECT FROM lead_mgmt.lead_status s WHERE s.key = element #>> '{}') THEN
                RAISE EXCEPTION 'lead status "%" in criterion % of selection "%" does not exist',
                                element #>> '{}', member, NEW.name
                    USING ERRCODE = '22023',
                          HINT = format('Lead statuses are: %s.',
                                        (SELECT string_agg(key, ', ' ORDER BY rank, key) FROM lead_mgmt.lead_status));
            ELSIF member LIKE '%category'
               AND NOT EXISTS (SELECT FROM lead_mgmt.category c WHERE c.key = element #>> '{}') THEN
                RAISE EXCEPTION 'category "%" in criterion % of selection "%" does not exist',
                                element #>> '{}', member, NEW.name
                    USING ERRCODE = '22023',
                          HINT = format('Categories are: %s.',
                                        (SELECT string_agg(key, ', ' ORDER BY rank, key) FROM lead_mgmt.category));
            ELSIF member LIKE '%category_group'
               AND NOT element #>> '{}' = ANY (enum_range(NULL::lead_mgmt.category_group)::text[]) THEN
                RAISE EXCEPTION 'category group "%" in criterion % of selection "%" does not exist',
                                element #>> '{}', member, NEW.name
                    USING ERRCODE = '22023',
                          HINT = format('Category groups are: %s.',
                                        array_to_string(enum_range(NULL::lead_mgmt.category_group)::text[], ', '));
            END IF;
        END LOOP;
    END LOOP;
    RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION lead_mgmt.selection_check() FROM PUBLIC;
CREATE TRIGGER selection_10_check BEFORE INSERT OR UPDATE ON lead_mgmt.selection
    FOR EACH ROW EXECUTE FUNCTION lead_mgmt.selection_check();

-- Everyone may save selections; only their author and lead_mgmt_admin
-- change or delete them.
ALTER TABLE lead_mgmt.selection ENABLE ROW LEVEL SECURITY;
CREATE POLICY selection_read ON lead_mgmt.selection FOR SELECT USING (true);
CREATE POLICY selection_insert ON lead_mgmt.selection FOR INSERT
    WITH CHECK (created_by = CURRENT_USER OR pg_catalog.pg_has_role('lead_mgmt_admin', 'MEMBER'));
CREATE POLICY selection_update ON lead_mgmt.selection FOR UPDATE
    USING (created_by = CURRENT_USER OR pg_catalog.pg_has_role('lead_mgmt_admin', 'MEMBER'))
    WITH CHECK (created_by = CURRENT_USER OR pg_catalog.pg_has_role('lead_mgmt_admin', 'MEMBER'));
CREATE POLICY selection_delete ON lead_mgmt.selection FOR DELETE
    USING (created_by = CURRENT_USER OR pg_catalog.pg_has_role('lead_mgmt_admin', 'MEMBER'));
GRANT SELECT, INSERT, UPDATE, DELETE ON lead_mgmt.selection TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('lead_mgmt.selection', '');

------------------------------------------------------------------------------
-- The views over the managed tables
------------------------------------------------------------------------------

-- The objects build_views() creates, in the order drop_views() drops them.
CREATE FUNCTION lead_mgmt.generated_views() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT ARRAY['board_by_owner', 'board_columns_by_owner', 'board_by_category',
                 'board_columns_by_category', 'board', 'board_columns', 'owner_counts',
                 'category_group_counts', 'category_counts', 'status_counts', 'company_leads',
                 'person_leads'];
END;
REVOKE EXECUTE ON FUNCTION lead_mgmt.generated_views() FROM PUBLIC;

CREATE FUNCTION lead_mgmt.drop_views() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET client_min_messages = warning
AS $$
DECLARE
    v text;
BEGIN
    PERFORM lead_mgmt.drop_analytics();
    DROP FUNCTION IF EXISTS lead_mgmt.selection_members(text);
    FOREACH v IN ARRAY lead_mgmt.generated_views() LOOP
        EXECUTE format('DROP VIEW IF EXISTS lead_mgmt.%I', v);
    END LOOP;
    IF to_regclass('lead_mgmt.status_history') IS NOT NULL THEN
        DROP POLICY IF EXISTS status_history_readers ON lead_mgmt.status_history;
        DROP POLICY IF EXISTS status_history_import ON lead_mgmt.status_history;
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION lead_mgmt.drop_views() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.drop_views() IS
    'Internal: drop the views build_views() created (unmanage() does, and DDL on the managed tables for the length of a command)';

CREATE FUNCTION lead_mgmt.build_views() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $build$
DECLARE
    r lead_mgmt.registration;
    composite boolean;
    history boolean := to_regclass('lead_mgmt.status_history') IS NOT NULL;
    p text;            -- person table
    c text;            -- company table
    pk text;           -- person key, company key, person's company, status, category
    ck text;
    pc text;
    st text;
    ca text;
    label_expr text;
    owner_expr text;
    since text;
    match_company text;
    v text;
    col record;
    counted boolean := to_regclass('lead_mgmt.count_delta') IS NOT NULL;
    owner_type text := 'text';
    src_p text;        -- persons per (category, status)
    src_o text;        -- persons per (owner, category, status)
    src_c text;        -- companies per category
    ptype text;        -- key types, and a function body
    ctype text;
    body text;
BEGIN
    SELECT * INTO r FROM lead_mgmt.registration;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_mgmt manages no tables'
            USING ERRCODE = '42704', HINT = 'Call lead_mgmt.manage(company_table => ..., person_table => ...) first.';
    END IF;
    PERFORM lead_mgmt.drop_views();
    p := r.person_table::text;
    c := r.company_table::text;
    pk := quote_ident(r.person_key);
    ck := quote_ident(r.company_key);
    pc := quote_ident(r.company_column);
    st := quote_ident(r.lead_status_column);
    ca := quote_ident(r.category_column);
    SELECT i.indnkeyatts = 2 INTO composite FROM pg_index i
     WHERE i.indrelid = r.person_table AND i.indisprimary;
    composite := coalesce(composite, false);
    match_company := CASE WHEN composite THEN format(' AND x.company_id OPERATOR(pg_catalog.=) p.%s', pc) ELSE '' END;
    -- a label or owner column dropped since manage() reads as NULL
    label_expr := CASE WHEN r.label_column IS NOT NULL AND EXISTS (
                            SELECT FROM pg_attribute a WHERE a.attrelid = r.person_table
                               AND a.attname = r.label_column AND a.attnum > 0 AND NOT a.attisdropped)
                       THEN 'p.' || quote_ident(r.label_column) ELSE 'NULL::text' END;
    owner_expr := CASE WHEN r.owner_column IS NOT NULL AND EXISTS (
                            SELECT FROM pg_attribute a WHERE a.attrelid = r.person_table
                               AND a.attname = r.owner_column AND a.attnum > 0 AND NOT a.attisdropped)
                       THEN 'p.' || quote_ident(r.owner_column) ELSE 'NULL::text' END;

    IF owner_expr <> 'NULL::text' THEN
        SELECT format_type(a.atttypid, a.atttypmod) INTO owner_type FROM pg_attribute a
         WHERE a.attrelid = r.person_table AND a.attname = r.owner_column;
    END IF;

    -- What the count views count: the count summary (see counts.c) for a
    -- reader it may answer for (lead_mgmt.counts_available()), else the rows
    -- the reader may see, counted now; without a summary, always the rows.
    src_p := format('SELECT c.%1$s::text AS category, p.%2$s::text AS status, pg_catalog.count(*) AS n'
                    '  FROM ONLY %3$s p LEFT JOIN ONLY %4$s c ON c.%5$s OPERATOR(pg_catalog.=) p.%6$s'
                    '%7$s GROUP BY 1, 2',
                    ca, st, p, c, ck, pc, '');
    src_o := format('SELECT (%1$s)::text AS owner, c.%2$s::text AS category, p.%3$s::text AS status, pg_catalog.count(*) AS n'
                    '  FROM ONLY %4$s p LEFT JOIN ONLY %5$s c ON c.%6$s OPERATOR(pg_catalog.=) p.%7$s'
                    ' WHERE p.%3$s IS NOT NULL%8$s GROUP BY 1, 2, 3',
                    owner_expr, ca, st, p, c, ck, pc, '');
    src_c := format('SELECT c.%1$s::text AS category, pg_catalog.count(*) AS n FROM ONLY %2$s c%3$s GROUP BY 1',
                    ca, c, '');
    IF counted THEN
        -- count_summary() answers from the summary, or counts the rows the
        -- reader may see (so the views' plans cost what the summary costs)
        src_p := 'SELECT x.category, x.status, x.n FROM lead_mgmt.count_summary(''p'') x';
        src_o := CASE WHEN owner_expr = 'NULL::text'
                      THEN 'SELECT NULL::text AS owner, x.category, x.status, x.n FROM lead_mgmt.count_summary(''p'') x'
                      ELSE 'SELECT x.owner, x.category, x.status, x.n FROM lead_mgmt.count_summary(''o'') x' END
                 || ' WHERE x.status IS NOT NULL';
        src_c := 'SELECT x.category, x.n FROM lead_mgmt.count_summary(''c'') x';
    END IF;

    -- The status's last change (hides and re-shows keep it); the reader sees
    -- the history rows of the persons they may see.
    IF history THEN
        -- the last change of the stored value (hides, re-shows and
        -- automation rows keep it: from_status = to_status)
        since := format('(SELECT x.changed_at FROM lead_mgmt.status_history x'
                        '  WHERE x.person_id OPERATOR(pg_catalog.=) p.%s%s'
                        '    AND x.from_status IS DISTINCT FROM x.to_status'
                        '  ORDER BY x.seq DESC LIMIT 1)', pk, match_company);
        ALTER TABLE lead_mgmt.status_history ENABLE ROW LEVEL SECURITY;
        IF lead_mgmt.is_distributed('lead_mgmt.status_history') THEN
            -- Citus distributes no policy with a subquery: lead_mgmt_admin only
            CREATE POLICY status_history_readers ON lead_mgmt.status_history FOR SELECT
                USING (pg_catalog.pg_has_role('lead_mgmt_admin', 'MEMBER'));
        ELSE
            EXECUTE format('CREATE POLICY status_history_readers ON lead_mgmt.status_history FOR SELECT'
                           ' USING (pg_catalog.pg_has_role(''lead_mgmt_admin'', ''MEMBER'')'
                           '        OR EXISTS (SELECT FROM ONLY %s p'
                           '                    WHERE p.%s OPERATOR(pg_catalog.=) status_history.person_id%s))',
                           p, pk,
                           CASE WHEN composite THEN format(' AND p.%s OPERATOR(pg_catalog.=) status_history.company_id', pc) ELSE '' END);
        END IF;
        -- lead_mgmt_admin appends rows (the history of another CRM); the
        -- triggers' rows do not pass through policies
        CREATE POLICY status_history_import ON lead_mgmt.status_history FOR INSERT
            WITH CHECK (pg_catalog.pg_has_role('lead_mgmt_admin', 'MEMBER'));
        GRANT SELECT ON lead_mgmt.status_history TO PUBLIC;
    ELSE
        since := 'NULL::timestamptz';
    END IF;

    -- Two branches: persons whose company shows lead status, and the rest.
    -- A filter on lead_status, category or owner reaches the person and
    -- company tables (and their indexes) in each branch.
    EXECUTE format($v$
CREATE VIEW lead_mgmt.person_leads WITH (security_invoker = true) AS
SELECT p.%1$s AS person_id, p.%3$s AS company_id, %8$s AS label, %9$s AS owner,
       c.%5$s AS category, coalesce(kl.name, k.name) AS category_name, k.category_group,
       p.%4$s AS lead_status, p.%4$s AS retained_status, true AS visible, true AS editable,
       coalesce(sl.name, s.name) AS status_name, s.rank AS status_rank, s.kind AS status_kind,
       coalesce(sl.description, s.description) AS status_description,
       %10$s AS status_since,
       (CURRENT_DATE OPERATOR(pg_catalog.-) (%10$s)::date) AS days_in_status,
       s.deleted AS status_deleted
  FROM ONLY %6$s p
  JOIN ONLY %7$s c ON c.%2$s OPERATOR(pg_catalog.=) p.%3$s
  JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) c.%5$s AND k.enable_lead_status
  LEFT JOIN lead_mgmt.category_label kl
         ON kl.category OPERATOR(pg_catalog.=) k.key AND kl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
  LEFT JOIN lead_mgmt.lead_status s ON s.key OPERATOR(pg_catalog.=) p.%4$s
  LEFT JOIN lead_mgmt.lead_status_label sl
         ON sl.status OPERATOR(pg_catalog.=) s.key AND sl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
UNION ALL
SELECT p.%1$s, p.%3$s, %8$s, %9$s,
       c.%5$s, coalesce(kl.name, k.name), k.category_group,
       NULL::text, p.%4$s, false, false,
       NULL::text, NULL::integer, NULL::lead_mgmt.status_kind, NULL::text,
       NULL::timestamptz, NULL::integer, NULL::boolean
  FROM ONLY %6$s p
  LEFT JOIN ONLY %7$s c ON c.%2$s OPERATOR(pg_catalog.=) p.%3$s
  LEFT JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) c.%5$s
  LEFT JOIN lead_mgmt.category_label kl
         ON kl.category OPERATOR(pg_catalog.=) k.key AND kl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
 WHERE k.enable_lead_status IS NOT TRUE
$v$, pk, ck, pc, st, ca, p, c, label_expr, owner_expr, since);

    EXECUTE format($v$
CREATE VIEW lead_mgmt.company_leads WITH (security_invoker = true) AS
SELECT c.%1$s AS company_id, c.%2$s AS category, coalesce(kl.name, k.name) AS category_name, k.category_group,
       coalesce(k.enable_lead_status, false) AS lead_status_enabled,
       coalesce(n.persons, 0) AS persons,
       coalesce(n.leads, 0) AS leads,
       coalesce(n.retained, 0) AS retained,
       coalesce(n.persons_by_status, '{}'::jsonb) AS persons_by_status
  FROM ONLY %3$s c
  LEFT JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) c.%2$s
  LEFT JOIN lead_mgmt.category_label kl
         ON kl.category OPERATOR(pg_catalog.=) k.key AND kl.language OPERATOR(pg_catalog.=) lead_mgmt.current_language()
  LEFT JOIN LATERAL (
        SELECT pg_catalog.sum(g.n)::bigint AS persons,
               coalesce(pg_catalog.sum(g.n) FILTER (WHERE g.status IS NOT NULL AND k.enable_lead_status), 0)::bigint AS leads,
               coalesce(pg_catalog.sum(g.n) FILTER (WHERE g.status IS NOT NULL AND k.enable_lead_status IS NOT TRUE), 0)::bigint AS retained,
               pg_catalog.jsonb_object_agg(g.status, g.n ORDER BY g.status)
                   FILTER (WHERE g.status IS NOT NULL AND k.enable_lead_status) AS persons_by_status
          FROM (SELECT p.%5$s AS status, pg_catalog.count(*) AS n
                  FROM ONLY %4$s p WHERE p.%6$s OPERATOR(pg_catalog.=) c.%1$s
                 GROUP BY p.%5$s) g) n ON true
$v$, ck, ca, c, p, st, pc);

    -- Dashboard tiles: whether a status shows is its category's flag
    EXECUTE format($v$
CREATE VIEW lead_mgmt.status_counts WITH (security_invoker = true) AS
SELECT s.key AS lead_status, sl.name AS status_name, s.rank, s.kind,
       coalesce(n.visible, 0)::bigint AS visible, coalesce(n.retained, 0)::bigint AS retained,
       coalesce(n.visible + n.retained, 0)::bigint AS total, s.deleted
  FROM lead_mgmt.lead_status s
  LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) sl ON true
  LEFT JOIN (SELECT x.status,
                    coalesce(pg_catalog.sum(x.n) FILTER (WHERE k.enable_lead_status), 0) AS visible,
                    coalesce(pg_catalog.sum(x.n) FILTER (WHERE k.enable_lead_status IS NOT TRUE), 0) AS retained
               FROM (%1$s) x
               LEFT JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) x.category
              WHERE x.status IS NOT NULL
              GROUP BY x.status) n ON n.status OPERATOR(pg_catalog.=) s.key
 WHERE NOT s.deleted OR n.visible + n.retained > 0
 ORDER BY s.rank, s.key
$v$, src_p);

    EXECUTE format($v$
CREATE VIEW lead_mgmt.category_counts WITH (security_invoker = true) AS
SELECT k.key AS category, kl.name AS category_name, k.category_group,
       k.enable_lead_status AS lead_status_enabled, k.rank,
       coalesce(co.companies, 0)::bigint AS companies, coalesce(pe.persons, 0)::bigint AS persons,
       (CASE WHEN k.enable_lead_status THEN coalesce(pe.with_status, 0) ELSE 0 END)::bigint AS leads,
       (CASE WHEN k.enable_lead_status THEN 0 ELSE coalesce(pe.with_status, 0) END)::bigint AS retained,
       k.deleted
  FROM lead_mgmt.category k
  LEFT JOIN LATERAL lead_mgmt.category_labels(k.key) kl ON true
  LEFT JOIN (SELECT x.category, pg_catalog.sum(x.n) AS companies FROM (%1$s) x GROUP BY x.category) co
         ON co.category OPERATOR(pg_catalog.=) k.key
  LEFT JOIN (SELECT x.category, pg_catalog.sum(x.n) AS persons,
                    coalesce(pg_catalog.sum(x.n) FILTER (WHERE x.status IS NOT NULL), 0) AS with_status
               FROM (%2$s) x GROUP BY x.category) pe
         ON pe.category OPERATOR(pg_catalog.=) k.key
 WHERE NOT k.deleted OR co.companies > 0 OR pe.persons > 0
 ORDER BY k.rank, k.key
$v$, src_c, src_p);

    CREATE VIEW lead_mgmt.category_group_counts WITH (security_invoker = true) AS
    SELECT g.category_group, gl.name AS category_group_name,
           count(cc.category) FILTER (WHERE NOT cc.deleted) AS categories,
           coalesce(sum(cc.companies), 0)::bigint AS companies,
           coalesce(sum(cc.persons), 0)::bigint AS persons,
           coalesce(sum(cc.leads), 0)::bigint AS leads,
           coalesce(sum(cc.retained), 0)::bigint AS retained
      FROM unnest(enum_range(NULL::lead_mgmt.category_group)) WITH ORDINALITY AS g (category_group, ord)
      LEFT JOIN LATERAL lead_mgmt.category_group_labels(g.category_group) gl ON true
      LEFT JOIN lead_mgmt.category_counts cc ON cc.category_group = g.category_group
     GROUP BY g.category_group, g.ord, gl.name
     ORDER BY g.ord;

    EXECUTE format($v$
CREATE VIEW lead_mgmt.owner_counts WITH (security_invoker = true) AS
SELECT x.owner::%2$s AS owner, coalesce(x.owner, lead_mgmt.no_owner_label()) AS owner_name,
       x.status AS lead_status, min(sl.name) AS status_name, min(s.rank) AS rank,
       pg_catalog.sum(x.n)::bigint AS leads
  FROM (%1$s) x
  JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) x.category AND k.enable_lead_status
  LEFT JOIN lead_mgmt.lead_status s ON s.key OPERATOR(pg_catalog.=) x.status
  LEFT JOIN LATERAL lead_mgmt.status_labels(x.status) sl ON true
 GROUP BY x.owner, x.status
HAVING pg_catalog.sum(x.n) > 0
 ORDER BY x.owner NULLS LAST, min(s.rank), x.status
$v$, src_o, owner_type);

    -- The board: a column per status (every one that is not deleted, and a
    -- deleted one while cards have it), cards of visible statuses; the
    -- columns count what the cards are (the summary is exact)
    EXECUTE format($v$
CREATE VIEW lead_mgmt.board_columns WITH (security_invoker = true) AS
SELECT s.key AS lead_status, sl.name AS status_name, s.rank,
       coalesce(n.cards, 0)::bigint AS cards,
       row_number() OVER (ORDER BY s.rank, s.key) AS position,
       s.kind, sl.description AS status_description, s.deleted
  FROM lead_mgmt.lead_status s
  LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) sl ON true
  LEFT JOIN (SELECT x.status, pg_catalog.sum(x.n) AS cards FROM (%1$s) x
               JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) x.category AND k.enable_lead_status
              WHERE x.status IS NOT NULL GROUP BY x.status) n ON n.status OPERATOR(pg_catalog.=) s.key
 WHERE NOT s.deleted OR n.cards > 0
 ORDER BY s.rank, s.key
$v$, src_p);

    CREATE VIEW lead_mgmt.board WITH (security_invoker = true) AS
    SELECT pl.lead_status,
           row_number() OVER (PARTITION BY pl.lead_status
                              ORDER BY pl.status_since NULLS FIRST, pl.person_id) AS position,
           pl.person_id, pl.company_id, pl.label, pl.owner, pl.days_in_status,
           pl.status_name, pl.status_rank, pl.status_since, pl.category, pl.category_name
      FROM lead_mgmt.person_leads pl
     WHERE pl.visible;

    EXECUTE format($v$
CREATE VIEW lead_mgmt.board_columns_by_category WITH (security_invoker = true) AS
SELECT k.key AS category, kl.name AS category_name, k.rank AS category_rank,
       s.key AS lead_status, sl.name AS status_name, s.rank,
       coalesce(n.cards, 0)::bigint AS cards,
       row_number() OVER (PARTITION BY k.key ORDER BY s.rank, s.key) AS position
  FROM lead_mgmt.category k
 CROSS JOIN lead_mgmt.lead_status s
  LEFT JOIN LATERAL lead_mgmt.category_labels(k.key) kl ON true
  LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) sl ON true
  LEFT JOIN (SELECT x.category, x.status, pg_catalog.sum(x.n) AS cards FROM (%1$s) x
              WHERE x.status IS NOT NULL GROUP BY x.category, x.status) n
         ON n.category OPERATOR(pg_catalog.=) k.key AND n.status OPERATOR(pg_catalog.=) s.key AND k.enable_lead_status
 WHERE (k.enable_lead_status AND NOT k.deleted AND NOT s.deleted) OR n.cards > 0
 ORDER BY k.rank, k.key, s.rank, s.key
$v$, src_p);

    CREATE VIEW lead_mgmt.board_by_category WITH (security_invoker = true) AS
    SELECT pl.category, pl.lead_status,
           row_number() OVER (PARTITION BY pl.category, pl.lead_status
                              ORDER BY pl.status_since NULLS FIRST, pl.person_id) AS position,
           pl.person_id, pl.company_id, pl.label, pl.owner, pl.days_in_status,
           pl.category_name, pl.status_name, pl.status_since
      FROM lead_mgmt.person_leads pl
     WHERE pl.visible;

    -- By owner: a lane per owner with leads, and one for leads without an
    -- owner, each with a column per status
    EXECUTE format($v$
CREATE VIEW lead_mgmt.board_columns_by_owner WITH (security_invoker = true) AS
WITH n AS (
    SELECT x.owner, x.status, pg_catalog.sum(x.n) AS cards FROM (%1$s) x
      JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) x.category AND k.enable_lead_status
     GROUP BY x.owner, x.status HAVING pg_catalog.sum(x.n) > 0)
SELECT o.owner::%2$s AS owner, coalesce(o.owner, lead_mgmt.no_owner_label()) AS owner_name,
       s.key AS lead_status, sl.name AS status_name, s.rank,
       coalesce(n.cards, 0)::bigint AS cards,
       row_number() OVER (PARTITION BY o.owner ORDER BY s.rank, s.key) AS position
  FROM (SELECT DISTINCT n.owner FROM n UNION SELECT NULL) o
 CROSS JOIN lead_mgmt.lead_status s
  LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) sl ON true
  LEFT JOIN n ON n.owner IS NOT DISTINCT FROM o.owner AND n.status OPERATOR(pg_catalog.=) s.key
 WHERE NOT s.deleted OR n.cards > 0
 ORDER BY o.owner NULLS LAST, s.rank, s.key
$v$, src_o, owner_type);

    CREATE VIEW lead_mgmt.board_by_owner WITH (security_invoker = true) AS
    SELECT pl.owner, coalesce(pl.owner::text, lead_mgmt.no_owner_label()) AS owner_name,
           pl.lead_status,
           row_number() OVER (PARTITION BY pl.owner, pl.lead_status
                              ORDER BY pl.status_since NULLS FIRST, pl.person_id) AS position,
           pl.person_id, pl.company_id, pl.label, pl.days_in_status,
           pl.status_name, pl.status_since, pl.category
      FROM lead_mgmt.person_leads pl
     WHERE pl.visible;

    -- selection_members(name): the key types are the managed tables'; the
    -- body reaches CREATE FUNCTION as a quoted literal (%L)
    SELECT format_type(a.atttypid, a.atttypmod) INTO ptype FROM pg_attribute a
     WHERE a.attrelid = r.person_table AND a.attname = r.person_key;
    SELECT format_type(a.atttypid, a.atttypmod) INTO ctype FROM pg_attribute a
     WHERE a.attrelid = r.company_table AND a.attname = r.company_key;
    body := format($body$
DECLARE
    s lead_mgmt.selection;
    q jsonb;
    w text := 'true';
    member text;
    arr text[];
BEGIN
    SELECT * INTO s FROM lead_mgmt.selection x WHERE x.name = selection_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'selection "%%" does not exist', selection_name
            USING ERRCODE = '42704',
                  HINT = coalesce('Saved selections are: ' || (SELECT string_agg(quote_literal(x.name), ', ' ORDER BY x.name) FROM lead_mgmt.selection x) || '.',
                                  'Save one in lead_mgmt.selection first.');
    END IF;
    q := s.criteria;
    FOREACH member IN ARRAY ARRAY['lead_status', 'category', 'category_group', 'owner'] LOOP
        IF q ? member THEN
            w := w || format(' AND v.%%I::text = ANY (%%L::text[])', member,
                             ARRAY(SELECT jsonb_array_elements_text(q -> member)));
        END IF;
        IF q ? ('not_' || member) THEN
            w := w || format(' AND (v.%%I IS NULL OR v.%%I::text <> ALL (%%L::text[]))', member, member,
                             ARRAY(SELECT jsonb_array_elements_text(q -> ('not_' || member))));
        END IF;
    END LOOP;
    IF q ? 'days_in_status_at_least' THEN
        w := w || format(' AND v.days_in_status >= %%s', (q ->> 'days_in_status_at_least')::integer);
    END IF;
    IF s.entity = 'company' THEN
        RETURN QUERY EXECUTE %1$L || w || ' ORDER BY v.company_id';
    ELSE
        RETURN QUERY EXECUTE 'SELECT v.person_id, v.company_id FROM lead_mgmt.person_leads v WHERE '
                             || w || ' ORDER BY v.person_id';
    END IF;
END
$body$,
        format('SELECT NULL::%s, v.company_id FROM lead_mgmt.company_leads v WHERE ', ptype));
    EXECUTE format($f$
CREATE FUNCTION lead_mgmt.selection_members(selection_name text)
    RETURNS TABLE (person_id %1$s, company_id %2$s)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS %3$L$f$, ptype, ctype, body);
    COMMENT ON FUNCTION lead_mgmt.selection_members(text) IS
        'The persons (or, for a company selection, the companies with person_id NULL) that match a saved selection now';

    -- Privileges: the views run as their reader (security_invoker), so the
    -- reader's rights and row-level security on the managed tables apply.
    FOREACH v IN ARRAY lead_mgmt.generated_views() LOOP
        EXECUTE format('GRANT SELECT ON lead_mgmt.%I TO PUBLIC', v);
    END LOOP;

    -- Comments: BI tools show them
    COMMENT ON VIEW lead_mgmt.person_leads IS
        'One row per person: the lead status as shown (NULL while the company''s category hides it), the stored (retained) status, labels in lead_mgmt.language, and since when';
    COMMENT ON VIEW lead_mgmt.company_leads IS
        'One row per company: its category, whether lead status shows, its persons and their shown statuses (persons_by_status: {"status key": persons})';
    COMMENT ON VIEW lead_mgmt.status_counts IS
        'Dashboard tile: persons per lead status, shown (visible) and hidden but kept (retained)';
    COMMENT ON VIEW lead_mgmt.category_counts IS
        'Dashboard tile: companies, persons and shown leads per category';
    COMMENT ON VIEW lead_mgmt.category_group_counts IS
        'Dashboard tile: categories, companies, persons and shown leads per category group';
    COMMENT ON VIEW lead_mgmt.owner_counts IS
        'Dashboard tile: shown leads per owner and status (owner NULL: no owner)';
    COMMENT ON VIEW lead_mgmt.board_columns IS
        'Columns of the lead board: every status that is not deleted (and a deleted one while cards have it), in position order (rank, then key), with the number of cards';
    COMMENT ON VIEW lead_mgmt.board IS
        'Cards of the lead board: persons with a shown status; position 1 is the longest in its status';
    COMMENT ON VIEW lead_mgmt.board_columns_by_category IS
        'Lead board per category: a lane per lead-enabled category, a column per status';
    COMMENT ON VIEW lead_mgmt.board_by_category IS
        'Cards of the lead board per category';
    COMMENT ON VIEW lead_mgmt.board_columns_by_owner IS
        'Lead board per owner: a lane per owner with leads and one for no owner, a column per status (WHERE owner = ... for "my leads")';
    COMMENT ON VIEW lead_mgmt.board_by_owner IS
        'Cards of the lead board per owner (owner NULL: no owner)';
    FOR col IN
        SELECT * FROM (VALUES
            ('person_id', 'Key of the person'),
            ('company_id', 'Key of the company'),
            ('label', 'What cards show for the person (the label column given to manage())'),
            ('owner', 'Owner of the person (the owner column given to manage()); NULL: no owner'),
            ('owner_name', 'The owner, or "No owner" in lead_mgmt.language'),
            ('category', 'Key of the company''s category'),
            ('category_name', 'Name of the category in lead_mgmt.language'),
            ('category_rank', 'Rank of the category'),
            ('category_group', 'Group of the category'),
            ('category_group_name', 'Name of the category group in lead_mgmt.language'),
            ('lead_status', 'Key of the lead status as shown: NULL while the company''s category hides it'),
            ('retained_status', 'Key of the stored lead status, also while hidden'),
            ('visible', 'Whether the lead status shows (the company''s category is lead-enabled)'),
            ('editable', 'Whether the lead status may be changed now'),
            ('status_name', 'Name of the lead status in lead_mgmt.language'),
            ('status_rank', 'Rank of the lead status'),
            ('status_kind', 'Kind of the lead status (open, working, nurture, qualified, disqualified)'),
            ('status_description', 'Description of the lead status in lead_mgmt.language (tooltip)'),
            ('status_deleted', 'Whether the lead status is soft-deleted'),
            ('status_since', 'When the person got this status (from lead_mgmt.status_history)'),
            ('days_in_status', 'Whole days since status_since, in the session''s time zone'),
            ('lead_status_enabled', 'Whether the category shows lead status'),
            ('persons', 'Number of persons'),
            ('leads', 'Number of persons with a shown lead status'),
            ('retained', 'Number of persons with a stored but hidden lead status'),
            ('persons_by_status', 'Persons per shown lead status, as a JSON object {"status key": persons}'),
            ('companies', 'Number of companies'),
            ('categories', 'Number of categories that are not deleted'),
            ('rank', 'Rank (columns are ordered by rank, then key)'),
            ('kind', 'Kind of the lead status'),
            ('total', 'visible + retained'),
            ('cards', 'Number of cards in the column (the same rows as the board''s cards)'),
            ('position', 'Order within the board: 1 first'),
            ('deleted', 'Whether the status or category is soft-deleted (shown while rows still have it)')
        ) AS t (name, comment)
    LOOP
        FOREACH v IN ARRAY lead_mgmt.generated_views() LOOP
            IF EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = format('lead_mgmt.%I', v)::regclass
                          AND a.attname = col.name AND a.attnum > 0) THEN
                EXECUTE format('COMMENT ON COLUMN lead_mgmt.%I.%I IS %L', v, col.name,
                               CASE WHEN v = 'status_counts' AND col.name = 'visible'
                                    THEN 'Persons with this status shown'
                                    WHEN v = 'board' AND col.name = 'position'
                                    THEN 'Place of the card in its column: 1 has been in the status longest'
                                    ELSE col.comment END);
            END IF;
        END LOOP;
    END LOOP;

    -- the columns manage() added keep a comment of their own, unless the
    -- table's owner wrote one
    IF col_description(r.company_table, (SELECT a.attnum FROM pg_attribute a
                                              WHERE a.attrelid = r.company_table AND a.attname = r.category_column)) IS NULL THEN
        EXECUTE format('COMMENT ON COLUMN %s.%s IS %L', c, ca,
                       'Category of the company (a key of lead_mgmt.category); managed by lead_mgmt');
    END IF;
    IF col_description(r.person_table, (SELECT a.attnum FROM pg_attribute a
                                         WHERE a.attrelid = r.person_table AND a.attname = r.lead_status_column)) IS NULL THEN
        EXECUTE format('COMMENT ON COLUMN %s.%s IS %L', p, st,
                       'Lead status of the person (a key of lead_mgmt.lead_status), kept while the company''s category hides it; managed by lead_mgmt');
    END IF;

    -- the history analytics and the functions that take a company key
    PERFORM lead_mgmt.build_analytics();
END
$build$;
REVOKE EXECUTE ON FUNCTION lead_mgmt.build_views() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.build_views() IS
    'Internal: (re)create the views over the managed tables (manage() and start_history() do)';

CREATE FUNCTION lead_mgmt.views_ddl() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'lm_views_ddl' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION lead_mgmt.views_ddl() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.views_ddl() IS
    'Event trigger: takes the views off while a managed table is dropped or a column they read is retyped or dropped, and puts them back afterwards';
CREATE EVENT TRIGGER lead_mgmt_views_ddl_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TABLE', 'DROP SCHEMA')
    EXECUTE FUNCTION lead_mgmt.views_ddl();
CREATE EVENT TRIGGER lead_mgmt_views_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'DROP TABLE', 'DROP SCHEMA')
    EXECUTE FUNCTION lead_mgmt.views_ddl();
