# shellcheck shell=bash disable=SC2034,SC2154
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
#
# Shared pieces of the multi-client runs over the managed company/person
# pair of setup.sql: test/stress/run.sh, test/crash/run.sh and scripts/soak
# source this file (it runs nothing by itself).
#
#   stress_dir            this directory: setup.sql and the pgbench scripts
#   PGBENCH               the pgbench to run (found on PATH or by pg_config)
#   q ARGS...             psql on database $db (set by the caller): unaligned,
#                         tuples only, stops at the first error
#   violation MESSAGE     prints it and counts it in $violations
#   per_script LOG RUN    "<script> <transactions> <retried> <failed>" for
#                         each script of a pgbench log
#   stress_invariants     the invariants of the final state of $db, and of
#                         every snapshot the watcher (watch.sql) took
#   stress_setup          creates $db from setup.sql (and the sequence of
#                         new_company.sql)
#   stress_start_load, stress_wait_load, stress_kill_load
#                         the mixed load of test/crash and scripts/soak
#   stress_error_report LOG [FIRST_LINE]
#                         server errors grouped by SQLSTATE; sets
#                         unexpected_errors
#   stress_backend_crashes LOG FIRST_LINE
#                         a violation if a server process crashed
#   stress_log_conf       postgresql.conf lines that let stress_server_errors
#                         read the SQLSTATE and process type of log lines
#   stress_server_errors LOG [FIRST_LINE]
#                         ERROR, FATAL and PANIC lines of a server log (from
#                         line FIRST_LINE on), one "<level>|<SQLSTATE>|
#                         <process type>|<message>" a line

stress_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -z "${PGBENCH:-}" ]; then
	if command -v pgbench >/dev/null; then
		PGBENCH=pgbench
	else
		PGBENCH="$(pg_config --bindir)/pgbench"
	fi
fi

q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

violations=0
violation() {
	echo "VIOLATION: $*"
	violations=$((violations + 1))
}

# Prints "<script> <transactions> <retried> <failed>" per script of a log
# (pgbench itemises scripts only when it runs several).
per_script() {
	awk -v run="$2" '
		/^number of transactions actually processed: / { total = $6 }
		/^number of transactions retried: / { total_retried = $5 }
		/^number of failed transactions: / { total_failed = $5 }
		/^SQL script [0-9]+: / { if (name != "") print name, tx, retried, failed
		                         name = $4; sub(/.*\//, "", name); sub(/\.sql$/, "", name)
		                         tx = 0; retried = 0; failed = 0; next }
		name != "" && / - [0-9]+ transactions / { tx = $2 }
		name != "" && / - number of transactions retried: / { retried = $6 }
		name != "" && / - number of failed transactions: / { failed = $6 }
		END { if (name != "") print name, tx, retried, failed
		      else print run, total + 0, total_retried + 0, total_failed + 0 }
	' "$1"
}

# (a) no person of a lead-enabled company without status (rule B1, and B2
# for moves and category changes), (b) every status value known and exactly
# one default, (e) history replays to every person's stored status and to
# whether it shows (H1), (f) the count summary equals a recount, also after
# folding and rebuilding it.
stress_invariants() {
	local watched without unknown defaults replay counts summary_rows folded after_compact after_rebuild

	# (a) no person of a lead-enabled company without status
	watched=$(q -c "SELECT count(DISTINCT at) || ' snapshots, ' || count(*) || ' persons' FROM stress.violation")
	if [ "$(q -c "SELECT count(*) FROM stress.violation")" -ne 0 ]; then
		violation "persons of lead-enabled companies without status seen while the clients ran: $watched"
		q -c "SELECT '  ' || at || ' person ' || person_id || ' company ' || company_id || ' (' || category || ')'
		        FROM stress.violation ORDER BY at, person_id LIMIT 20"
	fi
	without=$(q -c "SELECT count(*) FROM crm.person p JOIN crm.company c ON c.id = p.company_id
	                 WHERE lead_mgmt.is_lead_enabled(c.category) AND p.lead_status IS NULL")
	if [ "$without" -ne 0 ]; then
		violation "$without persons of lead-enabled companies without status at the end"
		q -c "SELECT '  person ' || p.id || ' company ' || c.id || ' (' || c.category || ')'
		        FROM crm.person p JOIN crm.company c ON c.id = p.company_id
		       WHERE lead_mgmt.is_lead_enabled(c.category) AND p.lead_status IS NULL
		       ORDER BY p.id LIMIT 20"
	fi

	# (b) status values and the default
	unknown=$(q -c "SELECT count(*) FROM crm.person p
	                 WHERE p.lead_status IS NOT NULL
	                   AND NOT EXISTS (SELECT FROM lead_mgmt.lead_status s WHERE s.key = p.lead_status)")
	[ "$unknown" -eq 0 ] || violation "$unknown persons hold a status that lead_mgmt.lead_status does not know"
	defaults=$(q -c "SELECT count(*) FROM lead_mgmt.lead_status WHERE is_default AND NOT deleted")
	[ "$defaults" -eq 1 ] || violation "lead_mgmt.lead_status has $defaults default statuses"

	# (e) status history replays to the current state of every person (H1)
	replay=$(q -c "SELECT count(*) FROM lead_mgmt.verify_history()")
	if [ "$replay" -ne 0 ]; then
		violation "$replay persons whose status history does not replay to their stored status"
		q -c "SELECT * FROM lead_mgmt.verify_history() LIMIT 20"
	fi
	echo "  status history: $(q -c "SELECT count(*) FROM lead_mgmt.status_history") rows; replay differs for $replay persons"

	# (f) the count summary equals a recount; folding it and rebuilding it
	# change nothing
	counts=$(q -c "SELECT count(*) FROM lead_mgmt.verify_counts()")
	if [ "$counts" -ne 0 ]; then
		violation "$counts keys of the count summary differ from a recount"
		q -c "SELECT * FROM lead_mgmt.verify_counts() LIMIT 20"
	fi
	summary_rows=$(q -c "SELECT count(*) FROM lead_mgmt.count_delta")
	folded=$(q -c "SELECT lead_mgmt.compact_counts()")
	after_compact=$(q -c "SELECT count(*) FROM lead_mgmt.verify_counts()")
	[ "$after_compact" -eq 0 ] || violation "after compact_counts(), $after_compact keys differ from a recount"
	q -c "SELECT lead_mgmt.rebuild_counts()" >/dev/null
	after_rebuild=$(q -c "SELECT count(*) FROM lead_mgmt.verify_counts()")
	[ "$after_rebuild" -eq 0 ] || violation "after rebuild_counts(), $after_rebuild keys differ from a recount"
	echo "  count summary: $summary_rows rows at the end ($folded folded by compact_counts()); differs from a recount for $counts keys"
}

# The server's log lines carry the process type and the SQLSTATE.
stress_log_conf="log_line_prefix = '%m [%p] <%b> %e '"

stress_server_errors() {
	tail -n +"${2:-1}" "$1" | sed -nE 's/^.* \[[0-9]+\] <([^>]*)> ([0-9A-Z]{5}) (ERROR|FATAL|PANIC): +(.*)$/\3|\2|\1|\4/p'
}

# Creates database $db with setup.sql ($companies companies, $persons
# persons) and the sequence of new_company.sql.
stress_setup() {
	psql -X -q -v ON_ERROR_STOP=1 -d postgres \
		-c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\""
	q -v companies="$companies" -v persons="$persons" -f "$stress_dir/setup.sql" >/dev/null
	q -c "CREATE SEQUENCE stress.new_company START $((companies + 1))"
}

# The mixed load of test/crash/run.sh and scripts/soak, in the background on
# $db: WRITERS writer clients (the scripts of run.sh's writers, and new
# companies with their first persons), two sales reps (clerk.sql), the
# administrator of run.sh (admin.sql: category toggles and merges), another
# one (catalog_edit.sql; compact.sql: folding and recounting the count
# summary) and the watcher.
# Runs for SECONDS; pgbench's output goes to DIR/<run>.log and its process
# id to load_pid[<run>], for each <run> of stress_runs.  Further arguments
# go to every pgbench.
stress_runs=(writers clerks admin catalog watch)
stress_start_load() {
	local seconds=$1 dir=$2 writers=$3
	shift 3
	local common=(-n -M simple --max-tries=100 --failures-detailed -T "$seconds"
		-D companies="$companies" -D maxperson="$maxperson" "$@")
	declare -gA load_pid=()
	"$PGBENCH" "${common[@]}" -c "$writers" -j 2 \
		-f "$stress_dir/insert.sql@5" \
		-f "$stress_dir/insert_rr.sql@1" \
		-f "$stress_dir/new_company.sql@1" \
		-f "$stress_dir/move.sql@3" \
		-f "$stress_dir/status.sql@3" \
		-f "$stress_dir/category.sql@2" \
		-f "$stress_dir/company_edit.sql@1" \
		"$db" >"$dir/writers.log" 2>&1 &
	load_pid[writers]=$!
	"$PGBENCH" "${common[@]}" -c 2 -f "$stress_dir/clerk.sql" "$db" >"$dir/clerks.log" 2>&1 &
	load_pid[clerks]=$!
	"$PGBENCH" "${common[@]}" -c 1 -f "$stress_dir/admin.sql" "$db" >"$dir/admin.log" 2>&1 &
	load_pid[admin]=$!
	"$PGBENCH" "${common[@]}" -c 1 \
		-f "$stress_dir/catalog_edit.sql@1" \
		-f "$stress_dir/compact.sql@2" \
		"$db" >"$dir/catalog.log" 2>&1 &
	load_pid[catalog]=$!
	"$PGBENCH" "${common[@]}" -c 1 -f "$stress_dir/watch.sql" "$db" >"$dir/watch.log" 2>&1 &
	load_pid[watch]=$!
}

# Waits for the load; pgbench's exit status in load_rc[<run>].
stress_wait_load() {
	declare -gA load_rc=()
	local run
	for run in "${stress_runs[@]}"; do
		load_rc[$run]=0
		wait "${load_pid[$run]}" || load_rc[$run]=$?
	done
}

# Stops what is left of the load (on an early exit).
stress_kill_load() {
	local run
	for run in "${!load_pid[@]}"; do
		kill "${load_pid[$run]}" 2>/dev/null || true
	done
}

# Prints the ERROR, FATAL and PANIC lines of a server log (from line FIRST
# on) grouped by level, SQLSTATE and process type, with the first message of
# each group, and counts in unexpected_errors those a mixed load does not
# explain: serialization failures and deadlocks of clients (pgbench retries
# them) and autovacuum giving way to a lock request are expected.
stress_error_report() {
	local log=$1 first=${2:-1} n level state proc msg kind
	unexpected_errors=0
	while IFS='|' read -r n level state proc msg; do
		kind=UNEXPECTED
		case "$level $state $proc" in
		"ERROR 40001 client backend" | "ERROR 40P01 client backend") kind="retried by pgbench" ;;
		"ERROR 57014 autovacuum worker") kind="autovacuum gave way" ;;
		esac
		printf '    %7d  %-5s %s  %-18s %s: %s\n' "$n" "$level" "$state" "$proc" "$kind" "${msg:0:90}"
		[ "$kind" != UNEXPECTED ] || unexpected_errors=$((unexpected_errors + n))
	done < <(stress_server_errors "$log" "$first" | awk -F'|' '
		{ k = $1 "|" $2 "|" $3; if (!(k in n)) { msg[k] = $4; order[++c] = k }; n[k]++ }
		END { for (i = 1; i <= c; i++) print n[order[i]] "|" order[i] "|" msg[order[i]] }')
}

# A violation if a server process died by itself (from line FIRST of LOG on).
stress_backend_crashes() {
	local crashes
	crashes=$(tail -n +"$2" "$1" | grep -E -A3 "terminated by signal|terminated by exception|exited with exit code|PANIC" || true)
	if [ -n "$crashes" ]; then
		violation "a server process crashed"
		echo "$crashes" | head -n 30
	fi
}
