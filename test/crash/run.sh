#!/usr/bin/env bash
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
# Crash recovery under load (SPEC §9): the invariants hold after the server
# dies in the middle of a multi-client load and recovers from its WAL.
#
# Starts a throwaway cluster of its own (fsync on, a checkpoint every 30 s)
# with the company/person pair of test/stress/setup.sql (history and count
# summary on), runs the mixed load of test/stress/lib.sh (inserts, also under
# REPEATABLE READ, new companies with their first persons, moves, status
# changes, category changes, company edits, sales reps, category toggles and
# status merges, status catalog edits, folding and recounting of the count
# summary, the watcher), and after a random 3 to 8 s stops the server with
# `pg_ctl -m immediate stop` (no shutdown checkpoint: the next start is a
# crash recovery), starts it again and checks, in every round:
#   - every transaction pgbench saw committed survived (inserted persons
#     and companies are there),
#   - no person of a lead-enabled company is without status (B1, B2), in the
#     recovered state nor in any snapshot the watcher took; every status is
#     a known key and exactly one default remains (persons of other
#     companies keep any status they had, B3),
#   - lead_mgmt.verify_history() is empty (history replays to every
#     person's stored status and visibility, H1),
#   - lead_mgmt.verify_counts() is empty (count summary = recount), also
#     after compact_counts() and rebuild_counts(),
#   - no transaction failed after its retries, and the server logged no
#     error before the crash but retried serialization failures and
#     deadlocks (and autovacuum giving way); pgbench's clients ended only by
#     losing their connection.
# Then the load goes on in the next round, on the recovered data.
#
#   test/crash/run.sh
#   CRASH_ROUNDS=10 test/crash/run.sh
#
# Needs the extension installed (make install, or scripts/test) and the
# PostgreSQL packages (installed by scripts/lib.sh when missing).  Settings:
# CRASH_ROUNDS (3), CRASH_CLIENTS (4 writers; 5 more clients run beside
# them), CRASH_COMPANIES (1000), CRASH_PERSONS (10000), CRASH_MIN_MS (3000)
# and CRASH_MAX_MS (8000): the load before each crash, CRASH_SEED (random;
# printed, repeats the delays), CRASH_KEEP=1 (keep the server log and
# pgbench's output also after a run without violation).  Exits 1 on any
# violation; the server log and pgbench's output are then kept.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
. "$here/../../scripts/lib.sh"
lm_ensure_packages
# shellcheck source=SCRIPTDIR/../stress/lib.sh
. "$LM_ROOT/test/stress/lib.sh"

rounds=${CRASH_ROUNDS:-3}
writers=${CRASH_CLIENTS:-4}
companies=${CRASH_COMPANIES:-1000}
persons=${CRASH_PERSONS:-10000}
min_ms=${CRASH_MIN_MS:-3000}
max_ms=${CRASH_MAX_MS:-8000}
seed=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
maxperson=$((persons * 2))
db=lead_mgmt_crash
RANDOM=$seed

if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/lead_mgmt.control" ]; then
	echo "crash: lead_mgmt is not installed (make install, or scripts/test)" >&2
	exit 2
fi

started=$(date +%s)
logs=$(mktemp -d /tmp/lead_mgmt_crash.XXXXXX)
finish() {
	stress_kill_load
	if [ "$keep_logs" -eq 1 ] && [ -n "${LM_TMP:-}" ] && [ -f "$LM_TMP/server.log" ]; then
		cp "$LM_TMP/server.log" "$logs/"
	fi
	lm_stop_cluster
	[ "$keep_logs" -eq 1 ] || rm -rf "$logs"
}
declare -A load_pid=()
keep_logs=1 # until the end is reached
trap finish EXIT
lm_start_cluster "fsync = on
checkpoint_timeout = 30s
$stress_log_conf"
trap finish EXIT
server_log=$LM_TMP/server.log
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

echo "crash: $rounds rounds, $writers writer clients, $companies companies, $persons persons, crash after ${min_ms}-${max_ms} ms of load (CRASH_SEED=$seed)"
stress_setup

# Connection losses are how pgbench's clients end here; anything else that
# ends one is a violation.
lost_connection='server closed the connection unexpectedly|terminating connection|no connection to the server|could not send data to server|could not receive data from server|connection to server .* failed|perhaps the backend died|SSL SYSCALL error|EOF detected'

total_tx=0
for round in $(seq 1 "$rounds"); do
	echo
	dir=$logs/round$round
	mkdir "$dir"
	before=$violations
	first_line=$(($(wc -l <"$server_log") + 1))
	persons_before=$(q -c "SELECT count(*) FROM crm.person")
	companies_before=$(q -c "SELECT count(*) FROM crm.company")
	delay=$((min_ms + RANDOM % (max_ms - min_ms + 1)))

	stress_start_load 3600 "$dir" "$writers" --random-seed="$((seed + round))"
	sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
	"${LM_RUNAS[@]}" "$LM_BINDIR/pg_ctl" -D "$LM_TMP/data" -m immediate -w stop >/dev/null
	crash_line=$(wc -l <"$server_log")
	stress_wait_load
	load_pid=()

	t0=$(date +%s.%N)
	lm_pg_start "$LM_TMP/data" "$server_log"
	recovery=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if ! tail -n +"$crash_line" "$server_log" | grep -q "database system was interrupted\|was not properly shut down; automatic recovery in progress"; then
		violation "the server did not go through crash recovery"
	fi
	redo_start=$(tail -n +"$crash_line" "$server_log" | sed -nE 's/.*redo starts at ([0-9A-F]+\/[0-9A-F]+).*/\1/p' | tail -n 1)
	redo_done=$(tail -n +"$crash_line" "$server_log" | sed -nE 's/.*redo done at ([0-9A-F]+\/[0-9A-F]+).*/\1/p' | tail -n 1)
	redo="no redo"
	if [ -n "$redo_start" ] && [ -n "$redo_done" ]; then
		redo="$(q -c "SELECT round(pg_wal_lsn_diff('$redo_done', '$redo_start') / 1048576.0, 1)") MB of WAL replayed"
	fi

	# what the clients did before the crash
	declare -A tx=()
	round_tx=0
	for run in "${stress_runs[@]}"; do
		log="$dir/$run.log"
		if [ "${load_rc[$run]}" -ne 0 ] && [ "${load_rc[$run]}" -ne 2 ]; then
			violation "pgbench ($run) exited with status ${load_rc[$run]}"
			tail -n 20 "$log"
		fi
		other=$(grep -E "aborted|error" "$log" | grep -vE "$lost_connection" |
			grep -vE "Run was aborted; the above results are incomplete" || true)
		if [ -n "$other" ]; then
			violation "pgbench ($run): a client ended otherwise than by losing its connection"
			echo "$other" | head -n 20
		fi
		failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
		if [ -z "$failed" ]; then
			violation "pgbench ($run) printed no summary"
			tail -n 20 "$log"
		elif [ "$failed" -ne 0 ]; then
			violation "pgbench ($run): $failed failed transactions"
		fi
		while read -r name n _; do
			tx[$name]=$n
			round_tx=$((round_tx + n))
		done < <(per_script "$log" "$run")
	done
	total_tx=$((total_tx + round_tx))
	echo "round $round: crashed after $((delay / 1000)).$(printf '%03d' $((delay % 1000))) s of load; recovery ${recovery} s, $redo"
	echo "  transactions done before the crash: $round_tx (insert ${tx[insert]:-0}, insert_rr ${tx[insert_rr]:-0}, new_company ${tx[new_company]:-0}, move ${tx[move]:-0}, status ${tx[status]:-0}, category ${tx[category]:-0}, company_edit ${tx[company_edit]:-0}, clerks ${tx[clerks]:-0}, admin ${tx[admin]:-0}, catalog_edit ${tx[catalog_edit]:-0}, compact ${tx[compact]:-0}, watch ${tx[watch]:-0})"

	# errors the server logged in the round
	echo "  server errors (count, level, SQLSTATE, process):"
	stress_error_report "$server_log" "$first_line"
	[ "$unexpected_errors" -eq 0 ] || violation "$unexpected_errors unexpected errors in the server log"
	stress_backend_crashes "$server_log" "$first_line"

	# durability: every insert pgbench saw committed is there (more may be:
	# a commit may be durable before its client heard of it)
	persons_now=$(q -c "SELECT count(*) FROM crm.person")
	companies_now=$(q -c "SELECT count(*) FROM crm.company")
	acked_persons=$((2 * (${tx[insert]:-0} + ${tx[insert_rr]:-0} + ${tx[new_company]:-0})))
	acked_companies=${tx[new_company]:-0}
	echo "  durability: $((persons_now - persons_before)) persons added (at least $acked_persons acknowledged), $((companies_now - companies_before)) companies (at least $acked_companies)"
	[ "$((persons_now - persons_before))" -ge "$acked_persons" ] ||
		violation "persons added: $((persons_now - persons_before)), acknowledged: $acked_persons"
	[ "$((companies_now - companies_before))" -ge "$acked_companies" ] ||
		violation "companies added: $((companies_now - companies_before)), acknowledged: $acked_companies"

	stress_invariants
	echo "  status changes refused because a concurrent category change hid them (23L01, tolerated): $(q -c "SELECT count(*) FROM stress.tolerated")"
	echo "  invariants: $((violations - before)) violations"
done

elapsed=$(($(date +%s) - started))
echo
if [ "$violations" -ne 0 ]; then
	echo "crash: FAILED, $violations violation(s) in ${elapsed} s; server log and pgbench output in $logs"
	exit 1
fi
if [ "${CRASH_KEEP:-0}" = 1 ]; then
	echo "crash: server log and pgbench output in $logs (CRASH_KEEP=1)"
else
	keep_logs=0
fi
echo "crash: $rounds crashes survived, $total_tx transactions before them, all invariants hold (${elapsed} s)"
