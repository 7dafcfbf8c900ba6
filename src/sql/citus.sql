
------------------------------------------------------------------------------
-- Scale-out on Citus (SPEC section 11)
------------------------------------------------------------------------------

-- lead_mgmt does not depend on Citus: these functions look for it when they
-- run.  On a Citus cluster the company and person tables are distributed on
-- the company key, co-located, and so are the status history and the count
-- summary (their rows carry the company key); the catalogs are reference
-- tables, so that a catalog change on the coordinator reaches every node in
-- the same transaction.  lead_mgmt's triggers then fire on the shards: a
-- trigger on a shard works on the co-located shards of its own node, and a
-- trigger on a node's copy of a catalog on the shards of that node.

-- The catalogs, in the order their foreign keys allow.
CREATE FUNCTION lead_mgmt.distributed_catalogs() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    RETURN ARRAY['category', 'lead_status', 'status_transition', 'category_label',
                 'lead_status_label', 'category_group_label', 'category_rule',
                 'selection', 'registration'];
COMMENT ON FUNCTION lead_mgmt.distributed_catalogs() IS
    'Internal: the catalogs lead_mgmt.distribute() makes reference tables, in the order their foreign keys allow';

-- Whether Citus keeps the rows of a table in shards.
CREATE FUNCTION lead_mgmt.is_distributed(tab regclass) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) tab);
END
$$;
COMMENT ON FUNCTION lead_mgmt.is_distributed(regclass) IS
    'Whether Citus distributes the table (or keeps it as a reference table); false where Citus is not installed';

CREATE FUNCTION lead_mgmt.distribute(shard_count integer DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reg record;
    pk_columns name[];
    catalog text;
    fk record;
    foreign_keys text[] := '{}';
    stmt text;
    shards integer;
BEGIN
    IF shard_count IS NOT NULL AND (shard_count < 1 OR shard_count > 64000) THEN
        RAISE EXCEPTION 'shard_count % is out of range', shard_count
            USING ERRCODE = '22023',
                  HINT = 'Give a number of shards from 1 to 64000, or NULL for the setting citus.shard_count.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'lead_mgmt.distribute() needs Citus, and extension citus is not installed in database %',
                        pg_catalog.current_database()
            USING ERRCODE = '55000',
                  HINT = 'On every node: add citus to shared_preload_libraries, restart, and run CREATE EXTENSION citus; then add the workers on the coordinator with citus_add_node().';
    END IF;
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RAISE EXCEPTION 'permission denied to distribute the tables managed by lead_mgmt'
            USING ERRCODE = '42501',
                  HINT = 'A superuser runs lead_mgmt.distribute(): it turns lead_mgmt''s own catalogs into reference tables.';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION 'lead_mgmt.distribute() runs on the coordinator, and this node is a worker'
            USING ERRCODE = '55000',
                  HINT = 'Connect to the coordinator and run it there.';
    END IF;
    SELECT * INTO reg FROM lead_mgmt.registration;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_mgmt manages no tables'
            USING ERRCODE = '55000',
                  HINT = 'Call lead_mgmt.manage(company_table => ..., person_table => ...) first, then lead_mgmt.distribute().';
    END IF;
    SELECT pg_catalog.array_agg(a.attname) INTO pk_columns
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey)
     WHERE i.indrelid OPERATOR(pg_catalog.=) reg.person_table AND i.indisprimary;
    IF pk_columns IS NULL OR NOT (reg.company_column OPERATOR(pg_catalog.=) ANY (pk_columns)) THEN
        RAISE EXCEPTION 'the primary key of person table % does not contain its company column "%"',
                        reg.person_table, reg.company_column
            USING ERRCODE = '42P16',
                  DETAIL = 'Citus distributes the persons by company, and a distributed table''s primary key must contain that column.',
                  HINT = pg_catalog.format('Make the key (%I, %I): SELECT lead_mgmt.unmanage(); ALTER TABLE %s DROP CONSTRAINT ..., ADD PRIMARY KEY (%I, %I); then lead_mgmt.manage() and lead_mgmt.distribute() again.',
                                           reg.company_column, reg.person_key, reg.person_table,
                                           reg.company_column, reg.person_key);
    END IF;

    -- triggers on distributed tables fire on the shards (lead_mgmt's are made for it)
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    -- foreign keys to reference tables are made in this transaction
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on',
                              pg_catalog.current_database());
    -- lead_mgmt's settings given with SET LOCAL reach the workers' sessions
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET citus.propagate_set_commands = ''local''',
                              pg_catalog.current_database());

    -- Foreign keys to the catalogs would pull the managed tables into
    -- Citus's metadata as local tables while a catalog becomes a reference
    -- table: they are dropped first and made again between Citus tables.
    FOR fk IN
        SELECT c.conrelid::pg_catalog.regclass AS tab, c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS def
          FROM pg_catalog.pg_constraint c
         WHERE c.contype OPERATOR(pg_catalog.=) 'f'
           AND c.confrelid IN (SELECT pg_catalog.format('lead_mgmt.%I', x)::pg_catalog.regclass
                                 FROM pg_catalog.unnest(lead_mgmt.distributed_catalogs()) x)
           AND NOT lead_mgmt.is_distributed(c.confrelid::pg_catalog.regclass)
         ORDER BY c.conrelid, c.conname
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tab, fk.conname);
        foreign_keys := foreign_keys || pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s',
                                                          fk.tab, fk.conname, fk.def);
        -- CREATE EXTENSION made the catalogs on the workers too: theirs go
        -- as well, and come back with the coordinator's below
        IF pg_catalog.to_regclass(fk.tab::text) IS NOT NULL AND
           (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) fk.tab)
               OPERATOR(pg_catalog.=) 'lead_mgmt'::pg_catalog.regnamespace THEN
            PERFORM pg_catalog.run_command_on_workers(
                pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.tab, fk.conname));
        END IF;
    END LOOP;

    -- The catalogs, copied to every node.  Their triggers are off while
    -- Citus copies the rows (they are valid already), on again after.
    FOREACH catalog IN ARRAY lead_mgmt.distributed_catalogs() LOOP
        IF NOT lead_mgmt.is_distributed(pg_catalog.format('lead_mgmt.%I', catalog)::pg_catalog.regclass) THEN
            EXECUTE pg_catalog.format('ALTER TABLE lead_mgmt.%I DISABLE TRIGGER USER', catalog);
            PERFORM pg_catalog.create_reference_table(pg_catalog.format('lead_mgmt.%I', catalog)::pg_catalog.regclass);
            EXECUTE pg_catalog.format('ALTER TABLE lead_mgmt.%I ENABLE TRIGGER USER', catalog);
        END IF;
    END LOOP;

    -- The managed pair, then the history and the count summary, co-located
    -- on the company key.
    IF NOT lead_mgmt.is_distributed(reg.company_table) THEN
        shards := coalesce(shard_count, pg_catalog.current_setting('citus.shard_count')::integer);
        -- a row-level security policy with a subquery cannot be distributed
        DROP POLICY IF EXISTS status_history_readers ON lead_mgmt.status_history;
        -- rebuilt below, from the distributed tables
        TRUNCATE lead_mgmt.count_delta;
        EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER USER', reg.company_table);
        EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER USER', reg.person_table);
        PERFORM pg_catalog.create_distributed_table(reg.company_table, reg.company_key::text,
                                                    shard_count => shards);
        PERFORM pg_catalog.create_distributed_table(reg.person_table, reg.company_column::text,
                                                    colocate_with => reg.company_table::text);
        PERFORM pg_catalog.create_distributed_table('lead_mgmt.status_history', 'company_id',
                                                    colocate_with => reg.company_table::text);
        PERFORM pg_catalog.create_distributed_table('lead_mgmt.count_delta', 'company_id',
                                                    colocate_with => reg.company_table::text);
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE TRIGGER USER', reg.company_table);
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE TRIGGER USER', reg.person_table);
    END IF;
    FOREACH stmt IN ARRAY foreign_keys LOOP
        EXECUTE stmt;
    END LOOP;

    -- Every node names the tables with its own OIDs: the registration is
    -- written again with the tables as constants, which Citus sends by name.
    EXECUTE pg_catalog.format('UPDATE lead_mgmt.registration SET company_table = %L::pg_catalog.regclass,'
                              ' person_table = %L::pg_catalog.regclass',
                              reg.company_table::text, reg.person_table::text);

    PERFORM lead_mgmt.build_views();
    PERFORM lead_mgmt.rebuild_counts();
END
$$;
REVOKE ALL ON FUNCTION lead_mgmt.distribute(integer) FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.distribute(integer) IS
    'On a Citus coordinator, after manage(): distribute the company and person tables on the company key (co-located, with the status history and the count summary) and make lead_mgmt''s catalogs reference tables; run it again after adding nodes';
