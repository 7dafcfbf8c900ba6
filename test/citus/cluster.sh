# shellcheck shell=bash
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
#
# A throwaway Citus cluster on this machine: a coordinator and two workers,
# each its own data directory and port, with citus in
# shared_preload_libraries.  Source it after scripts/lib.sh:
#
#   lm_citus_build          build and install Citus 13.2.2 from the vendored
#                           source (a no-op once citus.so is installed)
#   lm_citus_start DB       start the three nodes, CREATE EXTENSION citus in
#                           DB on each, and add the workers; sets
#                           LM_CITUS_PORTS (coordinator first) and exports
#                           PGHOST/PGPORT/PGDATABASE for the coordinator
#   lm_citus_stop           stop the nodes and remove their directories
#                           (also done when the calling script exits)

lm_citus_build() {
	local vendor=${LM_CITUS_VENDOR:-} d
	if [ -f "$($PG_CONFIG --pkglibdir)/citus.so" ]; then
		return 0
	fi
	if [ -z "$vendor" ]; then
		for d in "$LM_ROOT/../shared/vendor/citus" "$LM_ROOT/../../shared/vendor/citus" /work/shared/vendor/citus; do
			[ -f "$d/build.sh" ] && { vendor=$d; break; }
		done
	fi
	if [ -z "$vendor" ] || [ ! -f "$vendor/build.sh" ]; then
		echo "Citus is not installed and its source was not found (set LM_CITUS_VENDOR to the directory of build.sh)" >&2
		return 1
	fi
	lm_log "building Citus from $vendor (about 2 minutes)"
	lm_sudo env PATH="$PATH" PG_CONFIG="$PG_CONFIG" bash "$vendor/build.sh" /tmp/citus-build
}

# initdb, configure and start node n on port, and create database db with
# Citus in it.
lm_citus_init_node() {
	local db=$1 n=$2 port=$3 dir="$LM_CITUS_TMP/node$2"
	lm_initdb "$dir" "$LM_CITUS_TMP/initdb$n.log" || return 1
	{
		echo "shared_preload_libraries = 'citus'"
		echo "listen_addresses = 'localhost'"
		echo "unix_socket_directories = '$LM_CITUS_TMP'"
		echo "port = $port"
		echo "fsync = off"
		echo "max_connections = 100"
		echo "max_prepared_transactions = 100"
		echo "shared_buffers = 64MB"
		echo "wal_level = logical"
		echo "citus.shard_count = 8"
		echo "citus.max_background_task_executors_per_node = 1"
	} >>"$dir/postgresql.conf"
	lm_pg_start "$dir" "$LM_CITUS_TMP/node$n.log" || return 1
	psql -X -q -v ON_ERROR_STOP=1 -h "$LM_CITUS_TMP" -p "$port" -U postgres -d postgres \
		-c "CREATE DATABASE $db" -c "\\c $db" -c "CREATE EXTENSION citus"
}

lm_citus_start() {
	local db=$1 base i
	LM_CITUS_TMP=$(lm_server_tmp lead_mgmt_citus)
	lm_set_runas
	base=${LM_CITUS_PORT:-$((20000 + RANDOM % 20000))}
	LM_CITUS_PORTS=("$base" "$((base + 1))" "$((base + 2))")
	trap lm_citus_stop EXIT
	for i in 0 1 2; do
		lm_citus_init_node "$db" "$i" "${LM_CITUS_PORTS[$i]}" || return 1
	done
	export PGHOST=$LM_CITUS_TMP PGPORT=${LM_CITUS_PORTS[0]} PGUSER=postgres PGDATABASE=$db
	psql -X -q -v ON_ERROR_STOP=1 \
		-c "SELECT pg_catalog.citus_set_coordinator_host('localhost', ${LM_CITUS_PORTS[0]})" \
		-c "SELECT pg_catalog.citus_add_node('localhost', ${LM_CITUS_PORTS[1]})" \
		-c "SELECT pg_catalog.citus_add_node('localhost', ${LM_CITUS_PORTS[2]})" >/dev/null
}

# A psql on node N (0 = coordinator) of the cluster.
lm_citus_psql() {
	local n=$1
	shift
	psql -X -q -v ON_ERROR_STOP=1 -h "$LM_CITUS_TMP" -p "${LM_CITUS_PORTS[$n]}" -U postgres "$@"
}

lm_citus_stop() {
	local i
	if [ -n "${LM_CITUS_TMP:-}" ] && [ -d "$LM_CITUS_TMP" ]; then
		for i in 3 2 1 0; do
			[ -d "$LM_CITUS_TMP/node$i" ] &&
				"${LM_RUNAS[@]}" "$LM_BINDIR/pg_ctl" -D "$LM_CITUS_TMP/node$i" -m immediate -w stop >/dev/null 2>&1
		done
		rm -rf "$LM_CITUS_TMP"
	fi
	return 0
}

# Start one more node (number n, port base + n) with Citus, in the database
# db, and add it to the cluster from the coordinator.
lm_citus_add_node() {
	local db=$1 n=$2 port
	port=$((LM_CITUS_PORTS[0] + n))
	lm_citus_init_node "$db" "$n" "$port" || return 1
	LM_CITUS_PORTS+=("$port")
	psql -X -q -v ON_ERROR_STOP=1 -c "SELECT pg_catalog.citus_add_node('localhost', $port)" >/dev/null
}
