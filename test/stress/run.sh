#!/usr/bin/env bash
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
# Multi-client pgbench run over a managed company/person pair (SPEC §9).
#
# Writers insert persons into random companies (also under REPEATABLE READ),
# move them, change visible statuses, and change companies' categories to
# either side of lead-enabledness (alone, or after another update of the
# company in the same transaction); sales reps add persons with a pause
# between transactions; an administrator turns lead status of a category of
# our own on and off, and merges one status into another (restoring it);
# a category rule moves companies on when a status is set; a watcher checks the invariant in every snapshot it
# takes (several a second) while all this runs.  Afterwards:
#   (a) no person of a lead-enabled company is without status, in the final
#       state nor in any snapshot the watcher took,
#   (b) every status value exists in lead_mgmt.lead_status, and exactly one
#       default status remains,
#   (c) pgbench reports no failed transaction (serialization failures and
#       deadlocks are retried; the only error a client tolerates is 23L01 on
#       a status change that a concurrent category change has just hidden),
#   (d) the operations done are counted,
#   (e) status history replays to every person's stored status.
# Exits 1 on any violation.
#
# Needs PGHOST/PGPORT/PGUSER of a running cluster with lead_mgmt installed.
# Settings: STRESS_CLIENTS (6), STRESS_SECONDS (40), STRESS_COMPANIES (2000),
# STRESS_PERSONS (20000), STRESS_DB (lead_mgmt_stress); the database is
# dropped after a successful run and kept after a failed one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
db=${STRESS_DB:-lead_mgmt_stress}
clients=${STRESS_CLIENTS:-6}
seconds=${STRESS_SECONDS:-40}
companies=${STRESS_COMPANIES:-2000}
persons=${STRESS_PERSONS:-20000}
# moves and status changes pick among the first persons * 2 ids: the initial
# persons and the first ones inserted during the run (a missing id is a no-op)
maxperson=$((persons * 2))

# PGBENCH, q, violation, per_script, stress_invariants
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"

logs=$(mktemp -d /tmp/lead_mgmt_stress.XXXXXX)
keep_logs=0
trap '[ "$keep_logs" -eq 1 ] || rm -rf "$logs"' EXIT
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

started=$(date +%s)
echo "stress: $clients writer clients, $seconds s, $companies companies, $persons persons (database $db)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\""
q -v companies="$companies" -v persons="$persons" -f "$here/setup.sql" >/dev/null
persons_before=$(q -c "SELECT count(*) FROM crm.person")

common=(-n -M simple --max-tries=100 --failures-detailed -T "$seconds"
	-D companies="$companies" -D maxperson="$maxperson")

"$PGBENCH" "${common[@]}" -c 1 -f "$here/admin.sql" "$db" >"$logs/admin.log" 2>&1 &
admin_pid=$!
"$PGBENCH" "${common[@]}" -c 1 -f "$here/watch.sql" "$db" >"$logs/watch.log" 2>&1 &
watch_pid=$!
"$PGBENCH" "${common[@]}" -c 3 -f "$here/clerk.sql" "$db" >"$logs/clerks.log" 2>&1 &
clerks_pid=$!
declare -A rc=([writers]=0 [clerks]=0 [admin]=0 [watch]=0)
"$PGBENCH" "${common[@]}" -c "$clients" -j 2 \
	-f "$here/insert.sql@5" \
	-f "$here/insert_rr.sql@1" \
	-f "$here/move.sql@3" \
	-f "$here/status.sql@3" \
	-f "$here/category.sql@2" \
	-f "$here/company_edit.sql@1" \
	"$db" >"$logs/writers.log" 2>&1 || rc[writers]=$?
wait "$admin_pid" || rc[admin]=$?
wait "$watch_pid" || rc[watch]=$?
wait "$clerks_pid" || rc[clerks]=$?

# (c) and (d): what pgbench did
echo
echo "operations (transactions, of them retried, failed):"
for run in writers clerks admin watch; do
	log="$logs/$run.log"
	if [ "${rc[$run]}" -ne 0 ]; then
		violation "pgbench ($run) exited with status ${rc[$run]}"
		grep -E "aborted|ERROR|FATAL" "$log" | head -n 20 || true
	fi
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
	if [ -z "$failed" ]; then
		violation "pgbench ($run) printed no summary"
		tail -n 20 "$log"
	elif [ "$failed" -ne 0 ]; then
		violation "pgbench ($run): $failed failed transactions"
		grep -E "^number of (serialization|deadlock) failures" "$log" || true
	fi
	while read -r name tx retried nfailed; do
		printf '  %-13s %8s %8s %8s\n' "$name" "$tx" "$retried" "$nfailed"
	done < <(per_script "$log" "$run")
done
tolerated=$(q -c "SELECT count(*) FROM stress.tolerated")
echo "  status changes refused because a concurrent category change hid them (23L01, tolerated): $tolerated"
persons_after=$(q -c "SELECT count(*) FROM crm.person")
echo "  persons: $persons_before before, $persons_after after"
q -c "SELECT '  prospect is lead-enabled at the end: ' || enable_lead_status FROM lead_mgmt.category WHERE key = 'prospect'"

stress_invariants

echo
echo "final state (persons by status; visible = company lead-enabled):"
q -F ' ' -c "SELECT '  ' || coalesce(p.lead_status, '(none)'),
                    count(*) FILTER (WHERE lead_mgmt.is_lead_enabled(c.category)) || ' visible,',
                    count(*) FILTER (WHERE NOT lead_mgmt.is_lead_enabled(c.category)) || ' hidden or none'
               FROM crm.person p JOIN crm.company c ON c.id = p.company_id
              GROUP BY p.lead_status ORDER BY p.lead_status NULLS LAST"

elapsed=$(($(date +%s) - started))
echo
if [ "$violations" -ne 0 ]; then
	keep_logs=1
	echo "stress: FAILED, $violations violation(s) in ${elapsed} s; database $db and pgbench logs in $logs kept for inspection"
	exit 1
fi
psql -X -q -d postgres -c "DROP DATABASE \"$db\""
echo "stress: all invariants hold (${elapsed} s)"
