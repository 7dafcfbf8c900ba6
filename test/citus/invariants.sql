-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- After the concurrent writers: every invariant holds on the cluster.
SET client_min_messages = warning;
SELECT plan(4);
SELECT cmp_ok((SELECT count(*)::int FROM crm.company WHERE id BETWEEN 1001 AND 1200), '>', 0,
              'the writers wrote');
SELECT is((SELECT count(*)::int FROM crm.person p JOIN crm.company c ON c.id = p.company_id
             JOIN lead_mgmt.category k ON k.key = c.category
            WHERE k.enable_lead_status AND p.lead_status IS NULL), 0,
          'B1: every person of a lead-enabled company has a status');
SELECT is((SELECT count(*)::int FROM lead_mgmt.verify_history()), 0, 'H1: the history replays to every stored status');
SELECT is((SELECT count(*)::int FROM lead_mgmt.verify_counts()), 0, 'the count summary equals a recount');
SELECT * FROM finish();
