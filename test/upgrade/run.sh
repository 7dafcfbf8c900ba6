#!/usr/bin/env bash
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
# ALTER EXTENSION lead_mgmt UPDATE from the released 1.0.0 (SPEC §9): a
# database made at 1.0.0, with managed tables, customised catalogs, rows of
# its own and data, is updated; its catalogs, labels, registration and data
# are unchanged, the rules, history, views and counts work, and its schema
# equals that of a database made at the current version the same way
# (pg_dump --schema-only of both, and of the extension's own objects with
# --binary-upgrade, which dumps an extension's members).
#
# As a package update does it: the 1.0.0 library, built from the release
# commit, is installed and the database made with it; then the current
# library is installed again and new sessions run the update.  Needs
# PGHOST/PGPORT/PGUSER of a running cluster with the current extension
# installed, pg_config in PATH, and the repository's history (the release
# commit); installs with sudo when not root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# the commit 1.0.0 was released from (CHANGELOG: 1.0.0, 2026-11-29)
release=80c0c13
old=lead_mgmt_upgrade_old
new=lead_mgmt_upgrade_new
work=$(mktemp -d /tmp/lead_mgmt_upgrade.XXXXXX)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
fail() { echo "upgrade: $*"; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
pkglibdir=$(pg_config --pkglibdir)
installed=$pkglibdir/lead_mgmt.so
# swap a library in by rename, so that no running server maps a file
# being rewritten
install_library() {
	as_root cp "$1" "$installed.new"
	as_root chmod 755 "$installed.new"
	as_root mv -f "$installed.new" "$installed"
}
cleanup() {
	# whatever happened, leave the current library installed
	[ -f "$work/current.so" ] && install_library "$work/current.so"
	rm -rf "$work"
}
trap cleanup EXIT

# the released install script is kept as it shipped
if ! git -C "$root" cat-file -e "$release^{commit}" 2>/dev/null; then
	git -C "$root" fetch --quiet --unshallow 2>/dev/null || true
fi
git -C "$root" cat-file -e "$release^{commit}" 2>/dev/null ||
	fail "the 1.0.0 release commit $release is not in this clone's history (a shallow clone?)"
git -C "$root" show "$release:src/sql/lead_mgmt.sql" | cmp -s - "$root/src/sql/lead_mgmt--1.0.0.sql" ||
	fail "src/sql/lead_mgmt--1.0.0.sql differs from the script 1.0.0 shipped"

# the 1.0.0 library
mkdir "$work/1.0.0"
git -C "$root" archive "$release" Makefile lead_mgmt.control src | tar -x -C "$work/1.0.0"
make -s -C "$work/1.0.0" PG_CONFIG="$(command -v pg_config)" >"$work/build-1.0.0.log" 2>&1 ||
	{ cat "$work/build-1.0.0.log"; fail "the 1.0.0 library does not build"; }
cp "$installed" "$work/current.so"


current=$(q -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'lead_mgmt'")
for db in "$old" "$new"; do
	q -d postgres -c "DROP DATABASE IF EXISTS $db"
	q -d postgres -c "CREATE DATABASE $db"
done

install_library "$work/1.0.0/lead_mgmt.so"
q -d "$old" -c "CREATE EXTENSION lead_mgmt VERSION '1.0.0'"
q -d "$old" -f "$here/setup.sql" >/dev/null
install_library "$work/current.so"
q -d "$new" -c "CREATE EXTENSION lead_mgmt"
q -d "$new" -f "$here/setup.sql" >/dev/null

snapshot() {
	q -d "$1" -f "$root/test/catalog_snapshot.sql"
	q -d "$1" <<'SQL'
-- 1.0.0 held the tables as schema and name, 1.1.0 as regclass
SELECT 'registration', coalesce((j->>'company_schema') || '.', '') || (j->>'company_table'),
       coalesce((j->>'person_schema') || '.', '') || (j->>'person_table'),
       j->>'company_key', j->>'person_key', j->>'company_column', j->>'category_column', j->>'lead_status_column',
       j->>'label_column', j->>'owner_column', j->>'category_fkey', j->>'lead_status_fkey'
FROM (SELECT to_jsonb(r) AS j FROM lead_mgmt.registration r) s;
SELECT 'company', id, name, category FROM crm.company ORDER BY id;
SELECT 'person', id, company_id, name, owner, lead_status FROM crm.person ORDER BY id;
SQL
}

snapshot "$old" >"$work/before"
snapshot "$new" >"$work/fresh"
diff -u "$work/fresh" "$work/before" >/dev/null ||
	fail "the same setup gave different data at 1.0.0 and at $current: $(diff "$work/fresh" "$work/before" | head -n 20)"

q -d "$old" -c "ALTER EXTENSION lead_mgmt UPDATE"
version=$(q -d "$old" -c "SELECT extversion FROM pg_extension WHERE extname = 'lead_mgmt'")
[ "$version" = "$current" ] || fail "ALTER EXTENSION UPDATE left version $version, not $current"
echo "updated 1.0.0 -> $version"

snapshot "$old" >"$work/after"
diff -u "$work/before" "$work/after" || fail "the update changed the catalogs, labels, registration or data above (- before, + after)"
echo "catalogs, labels, registration and $(grep -c '^person' "$work/after") persons unchanged"

# history is new in 1.1.0: tables managed before start it themselves
q -d "$old" -c "SELECT lead_mgmt.start_history()" >/dev/null

# the schema: the user's tables with the triggers and views lead_mgmt made,
# and the extension's own objects
dump_schema() {
	pg_dump --schema-only "$1" | grep -v '^\\\(un\)\?restrict '
}
members() {
	# --binary-upgrade dumps the members of an extension, with OIDs, xids,
	# sequence positions and the columns an update dropped: those differ by
	# history, not design
	pg_dump --schema-only --binary-upgrade "$1" | awk '
		/^-- For binary upgrade, recreate dropped column/ { skip = 1 }
		skip && /^ALTER TABLE ONLY .* DROP COLUMN/ { skip = 0; next }
		skip || /pg\.dropped/ || /^\\(un)?restrict / || /^-- / { next }
		/relfrozenxid|^WHERE oid = |binary_upgrade_set_next_|binary_upgrade_create_empty_extension|pg_catalog\.setval\(/ { next }
		NF { print }'
}
dump_schema "$old" >"$work/old.sql"
dump_schema "$new" >"$work/new.sql"
diff -u "$work/new.sql" "$work/old.sql" || fail "pg_dump --schema-only differs between the updated and a fresh database (- fresh, + updated)"
members "$old" >"$work/old.members"
members "$new" >"$work/new.members"
diff -u "$work/new.members" "$work/old.members" || fail "the extension's objects differ between the updated and a fresh database (- fresh, + updated)"
echo "schema equals a fresh $current install: $(grep -c '^CREATE' "$work/old.sql") CREATE statements, $(grep -c '^CREATE' "$work/old.members") with the extension's members"

# behaviour after the update
out=$(q -d "$old" <<'SQL'
INSERT INTO crm.company VALUES (1000, 'Updated Opportunity AS', 'opportunity');
INSERT INTO crm.person VALUES (10001, 1000, 'Dag', 'owner1'), (10002, 5, 'Eli', 'owner2');
SELECT 'new persons: ' || string_agg(id || '=' || coalesce(lead_status, '-'), ' ' ORDER BY id) FROM crm.person WHERE id > 10000;
DO $$
DECLARE
    persons bigint := (SELECT count(*) FROM crm.person);
BEGIN
    BEGIN
        UPDATE crm.person SET lead_status = 'renurture' WHERE id = 10001;
        RAISE EXCEPTION 'deleted status was set';
    EXCEPTION WHEN SQLSTATE '23L03' THEN NULL;
    END;
    BEGIN
        UPDATE crm.person SET lead_status = 'open' WHERE id = (SELECT min(id) FROM crm.person WHERE lead_status = 'demo_booked');
        RAISE EXCEPTION 'transition rule ignored';
    EXCEPTION WHEN SQLSTATE '23L04' THEN NULL;
    END;
    BEGIN
        UPDATE crm.person SET lead_status = 'qualified'
         WHERE id = (SELECT min(p.id) FROM crm.person p JOIN crm.company c ON c.id = p.company_id WHERE c.category = 'customer');
        RAISE EXCEPTION 'status set on a hidden person';
    EXCEPTION WHEN SQLSTATE '23L01' THEN NULL;
    END;
    IF (SELECT count(*) FROM crm.person) <> persons THEN
        RAISE EXCEPTION 'a refused change changed the person table';
    END IF;
    -- B1 on every lead-enabled company, hidden status elsewhere kept
    IF EXISTS (SELECT FROM crm.person p JOIN crm.company c ON c.id = p.company_id
               JOIN lead_mgmt.category k ON k.key = c.category
               WHERE k.enable_lead_status AND k.category_group = 'potential_customer' AND p.lead_status IS NULL) THEN
        RAISE EXCEPTION 'B1: a person of a lead-enabled company has no status after the update';
    END IF;
    -- history after start_history(): a category flip and a status change
    UPDATE crm.company SET category = 'customer' WHERE id = 1;
    UPDATE crm.company SET category = 'lead' WHERE id = 1;
    UPDATE crm.person SET lead_status = 'contacting' WHERE id = 10001;
    IF (SELECT count(*) FROM lead_mgmt.status_history) = 0 THEN
        RAISE EXCEPTION 'no history recorded after start_history()';
    END IF;
    IF EXISTS (SELECT FROM lead_mgmt.verify_history()) THEN
        RAISE EXCEPTION 'history does not replay to the current statuses';
    END IF;
    IF EXISTS (SELECT FROM lead_mgmt.verify_counts()) THEN
        RAISE EXCEPTION 'the count summary differs from a recount';
    END IF;
    IF (SELECT count(*) FROM lead_mgmt.person_leads) <> (SELECT count(*) FROM crm.person) THEN
        RAISE EXCEPTION 'person_leads does not list every person';
    END IF;
    IF (SELECT sum(cards) FROM lead_mgmt.board_columns)
       <> (SELECT count(*) FROM lead_mgmt.person_leads WHERE visible) THEN
        RAISE EXCEPTION 'board columns and cards disagree';
    END IF;
    IF EXISTS (SELECT lead_status, total FROM lead_mgmt.status_counts WHERE total > 0
               EXCEPT SELECT lead_status, count(*) FROM crm.person WHERE lead_status IS NOT NULL GROUP BY 1) THEN
        RAISE EXCEPTION 'status_counts differs from a count of the person table';
    END IF;
END
$$;
SELECT 'behaviour checks passed';
SQL
)
echo "$out"
[ "$(printf '%s\n' "$out" | head -n 1)" = "new persons: 10001=contacting 10002=contacting" ] ||
	fail "after the update the customised default or lead-enabled category was not applied"

for db in "$old" "$new"; do
	q -d postgres -c "DROP DATABASE $db"
done
echo "upgrade from 1.0.0: ok"
