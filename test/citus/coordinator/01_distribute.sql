-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- lead_mgmt.distribute() on a Citus coordinator (SPEC section 11): what it
-- made of the tables, and its errors.
SET client_min_messages = warning;
SELECT plan(16);

SELECT ok(lead_mgmt.is_distributed('crm.company'), 'the company table is distributed');
SELECT is((SELECT partmethod::text FROM pg_dist_partition WHERE logicalrelid = 'crm.company'::regclass), 'h',
          'by hash');
SELECT is((SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition
            WHERE logicalrelid = 'crm.person'::regclass), 'company_id',
          'the person table is distributed on its company column');
SELECT is((SELECT count(DISTINCT colocationid)::int FROM pg_dist_partition
            WHERE logicalrelid IN ('crm.company'::regclass, 'crm.person'::regclass,
                                   'lead_mgmt.status_history'::regclass, 'lead_mgmt.count_delta'::regclass)),
          1, 'company, person, status history and count summary are co-located');
SELECT is((SELECT count(*)::int FROM pg_dist_shard WHERE logicalrelid = 'crm.company'::regclass), 4,
          'with the shard count given');
SELECT is((SELECT array_agg(x ORDER BY x) FROM unnest(lead_mgmt.distributed_catalogs()) x
            WHERE NOT EXISTS (SELECT FROM pg_dist_partition
                               WHERE logicalrelid = format('lead_mgmt.%I', x)::regclass
                                 AND partmethod = 'n')),
          NULL, 'every catalog is a reference table');
SELECT ok((SELECT bool_and(result = 'crm.company crm.person')
             FROM run_command_on_all_nodes($$SELECT company_table::text || ' ' || person_table::text
                                               FROM lead_mgmt.registration$$)),
          'every node resolves the registration to its own tables');
SELECT ok((SELECT bool_and(result = '4')
             FROM run_command_on_shards('crm.person',
                  $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'lead_mgmt_person_%%'$$)),
          'every person shard carries the person triggers');
SELECT ok((SELECT bool_and(result = '5')
             FROM run_command_on_shards('crm.company',
                  $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'lead_mgmt_company_%%'$$)),
          'every company shard carries the company triggers');
SELECT is((SELECT count(*)::int FROM crm.person WHERE lead_status = 'open'), 50,
          'rows copied into the shards keep their statuses (B1 before distribution)');
SELECT lives_ok('SELECT lead_mgmt.distribute()', 'distribute() again changes nothing and does not fail');
SELECT is((SELECT count(*)::int FROM pg_dist_shard WHERE logicalrelid = 'crm.company'::regclass), 4,
          'the shards stay as they were');

SELECT throws_ok('SELECT lead_mgmt.distribute(0)', '22023', 'shard_count 0 is out of range',
                 'a shard count below 1 is refused');
CREATE ROLE citus_nobody;
SET ROLE citus_nobody;
SELECT throws_ok('SELECT lead_mgmt.distribute()', '42501', NULL, 'only a superuser may call it');
RESET ROLE;
DROP ROLE citus_nobody;

-- a database whose tables are not managed, and one whose person key lacks the company
SELECT is((SELECT count(*)::int FROM run_command_on_workers('SELECT lead_mgmt.distribute()')
            WHERE NOT success AND result LIKE '%runs on the coordinator%'), 2,
          'on a worker it is refused, naming the coordinator');
SELECT is((SELECT count(*)::int FROM pg_dist_partition), 13, 'nothing else was distributed');

SELECT * FROM finish();
