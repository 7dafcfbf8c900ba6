#!/usr/bin/env bash
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
# The Citus suite (SPEC section 11): builds Citus 13.2.2 from the vendored
# source when it is not installed (it fails, never skips, when it cannot),
# forms a cluster of a coordinator and two workers on this machine, manages
# and distributes a company/person pair (test/citus/setup.sql), runs the
# pgTAP files of test/citus/coordinator/ on the coordinator and those of
# test/citus/worker/ on a worker, then concurrent pgbench writers through
# the coordinator and a worker, and checks the invariants afterwards; then
# adds a third worker, moves a shard group, rebalances, and checks the
# rules on the moved shards and on the new node (test/citus/topology.sql).
#
#   test/citus/run.sh
#
# Environment: CITUS_STRESS_SECONDS (pgbench time, 0 skips it) [15]
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$LM_ROOT/test/citus/cluster.sh"
cd "$LM_ROOT"

lm_ensure_packages
lm_citus_build
lm_build_install
lm_citus_start lead_mgmt_citus

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION lead_mgmt"
psql -X -q -v ON_ERROR_STOP=1 -f test/citus/setup.sql >/dev/null
pg_prove --failures -d lead_mgmt_citus test/citus/coordinator/*.sql
# refusals, in a database of the coordinator alone
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE lead_mgmt_citus_unready"
psql -X -q -v ON_ERROR_STOP=1 -d lead_mgmt_citus_unready -c "CREATE EXTENSION citus" \
	-c "SELECT pg_catalog.citus_set_coordinator_host('localhost', ${LM_CITUS_PORTS[0]})" \
	-c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION lead_mgmt" >/dev/null
pg_prove --failures -d lead_mgmt_citus_unready test/citus/errors.sql
pg_prove --failures -d lead_mgmt_citus -p "${LM_CITUS_PORTS[1]}" test/citus/worker/*.sql

seconds=${CITUS_STRESS_SECONDS:-15}
if [ "$seconds" -gt 0 ]; then
	lm_log "pgbench through the coordinator and a worker, ${seconds}s"
	for n in 0 1; do
		# deadlocks (a transaction that inserts a person, then changes the
		# company's category, against one that changes it first) are retried
		pgbench -n -p "${LM_CITUS_PORTS[$n]}" -c 2 -T "$seconds" --max-tries=50 --failures-detailed \
			-f test/citus/stress.sql lead_mgmt_citus >"$LM_CITUS_TMP/pgbench$n.log" 2>&1 &
	done
	wait
	for n in 0 1; do
		echo "node $n: $(grep -E "^number of transactions actually processed" "$LM_CITUS_TMP/pgbench$n.log")," \
			"$(grep -E "^number of transactions retried" "$LM_CITUS_TMP/pgbench$n.log" || echo "none retried")"
		grep -q "^number of failed transactions: 0 " "$LM_CITUS_TMP/pgbench$n.log" ||
			{ cat "$LM_CITUS_TMP/pgbench$n.log"; exit 1; }
	done
	pg_prove --failures -d lead_mgmt_citus test/citus/invariants.sql
fi

lm_log "shard moves, and a new node"
lm_citus_add_node lead_mgmt_citus 3
pg_prove --failures -d lead_mgmt_citus test/citus/topology.sql
pg_prove --failures -d lead_mgmt_citus test/citus/invariants.sql
