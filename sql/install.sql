-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
--
-- Installation: schema, types, catalogs with their shipped rows, labels,
-- functions, settings and privileges.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;

CREATE EXTENSION lead_mgmt;

-- the extension is not relocatable and lives in schema lead_mgmt
SELECT e.extname, e.extversion, n.nspname, e.extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'lead_mgmt';

-- types
SELECT t.typname, pg_catalog.array_to_string(pg_catalog.enum_range(NULL::lead_mgmt.category_group)::text[], ', ') AS labels
  FROM pg_type t WHERE t.oid = 'lead_mgmt.category_group'::regtype
UNION ALL
SELECT t.typname, pg_catalog.array_to_string(pg_catalog.enum_range(NULL::lead_mgmt.status_kind)::text[], ', ')
  FROM pg_type t WHERE t.oid = 'lead_mgmt.status_kind'::regtype;

-- tables, and which of them pg_dump treats as configuration
SELECT c.relname, c.oid = ANY (e.extconfig) AS dumped_as_configuration
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN pg_extension e
 WHERE n.nspname = 'lead_mgmt' AND c.relkind = 'r' AND e.extname = 'lead_mgmt'
 ORDER BY c.relname;

-- shipped statuses (SPEC §3): key, English name, kind, rank, default
SELECT key, name, kind, rank, is_default, deleted, shipped, description
  FROM lead_mgmt.lead_status ORDER BY rank;

-- shipped categories
SELECT key, name, category_group, enable_lead_status, rank, shipped, description
  FROM lead_mgmt.category ORDER BY rank;

-- Norwegian labels (the seed's language) and the English fallback
SELECT s.key, lead_mgmt.status_name(s.key) AS en, l.name AS nb, l.description AS nb_description
  FROM lead_mgmt.lead_status s
  LEFT JOIN lead_mgmt.lead_status_label l ON l.status = s.key AND l.language = 'nb'
 ORDER BY s.rank;
SET lead_mgmt.language = 'nb';
SELECT key, lead_mgmt.status_name(key), lead_mgmt.status_description(key)
  FROM lead_mgmt.lead_status ORDER BY rank;
SELECT key, lead_mgmt.category_name(key), lead_mgmt.category_group_name(category_group)
  FROM lead_mgmt.category ORDER BY rank;
-- a language without labels falls back to English
-- no is a common code for Norwegian: it reads as nb
SET lead_mgmt.language = 'no';
SELECT lead_mgmt.status_name('renurture'), lead_mgmt.category_name('mql'),
       lead_mgmt.category_group_name('potential_customer');
-- a language without labels is refused, and the setting stays as it was
RESET lead_mgmt.language;
SET lead_mgmt.language = 'de';
\echo :LAST_ERROR_SQLSTATE
SHOW lead_mgmt.language;
-- an administrator adds a language by inserting labels; then it is accepted
-- and falls back to English where a label is missing
INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('renurture', 'de', 'Wiedervorlage');
SET lead_mgmt.language = 'de';
SELECT lead_mgmt.status_name('renurture'), lead_mgmt.category_name('mql'),
       lead_mgmt.category_group_name('potential_customer');
DELETE FROM lead_mgmt.lead_status_label WHERE language = 'de';
RESET lead_mgmt.language;
-- label functions: NULL for NULL, an error for an unknown key
SELECT lead_mgmt.status_name(NULL) IS NULL AS null_status, lead_mgmt.category_name(NULL) IS NULL AS null_category;
SELECT lead_mgmt.status_name('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT lead_mgmt.category_description('nope');
\echo :LAST_ERROR_SQLSTATE
-- the table functions are what queries join: the planner inlines them into
-- plain joins with the label tables (no function scan left in the plan)
SET lead_mgmt.language = 'nb';
SELECT s.key, l.name, l.description FROM lead_mgmt.lead_status s
  LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) l ON true ORDER BY s.rank;
SELECT c.key, l.name FROM lead_mgmt.category c
  LEFT JOIN LATERAL lead_mgmt.category_labels(c.key) l ON true ORDER BY c.rank;
SELECT g, l.name FROM unnest(enum_range(NULL::lead_mgmt.category_group)) g
  LEFT JOIN LATERAL lead_mgmt.category_group_labels(g) l ON true;
RESET lead_mgmt.language;
EXPLAIN (COSTS OFF) SELECT s.key, l.name FROM lead_mgmt.lead_status s
  LEFT JOIN LATERAL lead_mgmt.status_labels(s.key) l ON true;
EXPLAIN (COSTS OFF) SELECT c.key, l.name FROM lead_mgmt.category c
  LEFT JOIN LATERAL lead_mgmt.category_labels(c.key) l ON true;
-- a malformed language is refused
SET lead_mgmt.language = 'Norsk bokmål';
RESET lead_mgmt.language;

-- settings and their defaults
SELECT name, setting, vartype, enumvals
  FROM pg_settings WHERE name LIKE 'lead_mgmt.%' ORDER BY name;
-- the prefix is reserved: a misspelt setting is an error
SET lead_mgmt.reentery = 'restore';
SET lead_mgmt.reentry = 'sometimes';

-- lead-enabled categories
SELECT key, lead_mgmt.is_lead_enabled(key) FROM lead_mgmt.category ORDER BY rank;
SELECT lead_mgmt.is_lead_enabled(NULL), lead_mgmt.is_lead_enabled('no_such_category');

-- privileges: everybody reads the catalogs; lead_mgmt_admin writes them and
-- may call manage(); nobody else may
SELECT c.relname,
       pg_catalog.has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       pg_catalog.has_table_privilege('public', c.oid, 'UPDATE') AS public_update,
       pg_catalog.has_table_privilege('lead_mgmt_admin', c.oid, 'UPDATE') AS admin_update
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'lead_mgmt' AND c.relkind = 'r'
 ORDER BY c.relname;
SELECT p.proname,
       pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       pg_catalog.has_function_privilege('lead_mgmt_admin', p.oid, 'EXECUTE') AS admin_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'lead_mgmt' AND p.proname IN ('manage', 'unmanage')
 ORDER BY p.proname;

-- every function that runs SQL of its own pins its search_path; the label
-- functions are SQL bodies parsed once, at creation, without a SET clause (so
-- that the table functions inline); current_language() and unknown_key() read no tables by name
SELECT p.proname, p.proconfig
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'lead_mgmt' AND p.prorettype <> 'trigger'::regtype
 ORDER BY p.proname;

-- trigger functions refuse to be called directly
SELECT lead_mgmt.person_rules();

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
-- the role stays: roles are cluster-wide
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'lead_mgmt_admin';
