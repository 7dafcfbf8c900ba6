# shellcheck shell=bash
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
#
# Shared helpers of scripts/demo, scripts/test and bench/run: install what is
# missing, build and install the extension, run a throwaway cluster.
#
# Source it; it sets LM_ROOT (the repository) and, after lm_start_cluster,
# PGHOST, PGPORT, PGUSER and PGDATABASE for the clients.

LM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LM_PG_MAJOR=${LM_PG_MAJOR:-15}
LM_PACKAGES=(
	"postgresql-$LM_PG_MAJOR"
	"postgresql-server-dev-$LM_PG_MAJOR"
	"postgresql-$LM_PG_MAJOR-pgtap"
	libtap-parser-sourcehandler-pgtap-perl
	python3-jsonschema
	python3-psycopg
	make
	gcc
)

lm_log() { printf '\n== %s\n' "$*"; }

lm_sudo() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages the build and the tests need, if missing.
lm_ensure_packages() {
	local missing=() p
	for p in "${LM_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		lm_log "installing ${missing[*]}"
		lm_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		lm_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	LM_BINDIR=$(/usr/lib/postgresql/"$LM_PG_MAJOR"/bin/pg_config --bindir)
	export PG_CONFIG="$LM_BINDIR/pg_config"
	export PATH="$LM_BINDIR:$PATH"
}

# Build (warnings are errors) and install the extension.
lm_build_install() {
	lm_log "building lead_mgmt"
	make -C "$LM_ROOT" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	lm_sudo make -C "$LM_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# Start a throwaway cluster in a temporary directory; it is stopped and
# removed when the calling script exits.  PostgreSQL refuses to run as root,
# so under root the server runs as the postgres user.
# A temporary directory the server may write (under root it runs as the
# postgres user: LM_RUNAS); its name is printed.
lm_server_tmp() {
	local dir
	dir=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$dir"
	if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
	echo "$dir"
}

lm_set_runas() {
	LM_RUNAS=()
	if [ "$(id -u)" -eq 0 ]; then LM_RUNAS=(runuser -u postgres --); fi
}

# initdb DIR (log in LOG), as the tests' clusters are made.
lm_initdb() {
	"${LM_RUNAS[@]}" "$LM_BINDIR/initdb" -D "$1" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$2" 2>&1 || { cat "$2"; return 1; }
}

# Start the server of DIR (log in LOG) and wait for it.
lm_pg_start() {
	"${LM_RUNAS[@]}" "$LM_BINDIR/pg_ctl" -D "$1" -l "$2" -w start >/dev/null || { cat "$2"; return 1; }
}

lm_start_cluster() {
	local extra_conf=${1:-}
	LM_TMP=$(lm_server_tmp lead_mgmt)
	lm_set_runas
	export PGHOST="$LM_TMP" PGPORT=${LM_PORT:-$((20000 + RANDOM % 20000))}
	export PGUSER=postgres PGDATABASE=postgres
	lm_initdb "$LM_TMP/data" "$LM_TMP/initdb.log" || return 1
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$LM_TMP'"
		echo "port = $PGPORT"
		echo "fsync = off"
		echo "max_connections = 60"
		echo "max_prepared_transactions = 10"
		echo "$extra_conf"
	} >>"$LM_TMP/data/postgresql.conf"
	trap lm_stop_cluster EXIT
	lm_pg_start "$LM_TMP/data" "$LM_TMP/server.log"
}

lm_stop_cluster() {
	if [ -n "${LM_TMP:-}" ] && [ -d "$LM_TMP/data" ]; then
		"${LM_RUNAS[@]}" "$LM_BINDIR/pg_ctl" -D "$LM_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
		rm -rf "$LM_TMP"
	fi
}
