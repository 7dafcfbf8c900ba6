-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Shard moves and a new node (run.sh has just started and added it): the
-- moved shards carry the triggers, and the rules hold on every node.
SET client_min_messages = warning;
SELECT plan(10);

-- a new node first gets the reference tables (Citus moves no shard before)
SELECT lives_ok($$SELECT replicate_reference_tables(shard_transfer_mode => 'block_writes')$$,
                'the reference tables reach the new node');

-- the shard group of company 1 moves to the other worker
SELECT nodeport AS from_port FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
 WHERE shardid = get_shard_id_for_distribution_column('crm.company', 1) \gset
SELECT nodeport AS to_port FROM pg_dist_node
 WHERE groupid <> 0 AND nodeport <> :from_port AND isactive AND shouldhaveshards
 ORDER BY nodeport LIMIT 1 \gset
SELECT lives_ok(format($$SELECT citus_move_shard_placement(%s, 'localhost', %s, 'localhost', %s,
                                                            shard_transfer_mode => 'block_writes')$$,
                       get_shard_id_for_distribution_column('crm.company', 1), :from_port, :to_port),
                'citus_move_shard_placement moves a shard group');
INSERT INTO crm.person (company_id, id, name) VALUES (1, 900, 'after the move');
SELECT is(value_of($$SELECT lead_status FROM crm.person WHERE company_id = 1 AND id = 900$$), 'open',
          'B1 on the moved shard');
UPDATE crm.company SET category = 'customer' WHERE id = 1;
UPDATE crm.company SET category = 'lead' WHERE id = 1;
SELECT is(value_of($$SELECT count(*) FROM lead_mgmt.status_history WHERE company_id = 1 AND event IN ('hidden', 'shown', 'entered')
                       AND changed_at > now() - interval '1 hour' AND person_id = 900$$), '2',
          'H1 on the moved shard: hidden and back');

-- the new node gets shards by a rebalance
SELECT lives_ok($$SELECT citus_rebalance_start(shard_transfer_mode => 'block_writes', rebalance_strategy => 'by_shard_count')$$,
                'citus_rebalance_start');
SELECT lives_ok('SELECT citus_rebalance_wait()', 'the rebalance ends');
SELECT cmp_ok((SELECT count(*)::int FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                WHERE n.nodeport = (SELECT max(nodeport) FROM pg_dist_node)
                  AND p.shardid IN (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'crm.person'::regclass)),
              '>', 0, 'the new node holds person shards');
SELECT lives_ok('SELECT lead_mgmt.distribute()', 'distribute() again writes the registration for the new node');

-- companies whose shards are on the new node
INSERT INTO crm.person (company_id, id, name)
SELECT c.id, 901, 'on the new node' FROM crm.company c
 WHERE get_shard_id_for_distribution_column('crm.company', c.id) IN
       (SELECT shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
         WHERE n.nodeport = (SELECT max(nodeport) FROM pg_dist_node));
SELECT is((SELECT count(*)::int FROM crm.person p JOIN crm.company c ON c.id = p.company_id
            JOIN lead_mgmt.category k ON k.key = c.category
            WHERE p.id = 901 AND (k.enable_lead_status IS DISTINCT FROM (p.lead_status IS NOT NULL))), 0,
          'B1 on the new node: a status exactly where the company is lead-enabled');
SELECT is((SELECT count(*)::int FROM lead_mgmt.verify_history()) + (SELECT count(*)::int FROM lead_mgmt.verify_counts()), 0,
          'history and counts still agree with the rows');

SELECT * FROM finish();
