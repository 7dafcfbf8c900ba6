#!/usr/bin/env bash
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
# pg_dump + restore into a new database keeps the catalogs (shipped rows as
# customised, rows of one's own), the labels, the registration and the
# behaviour (SPEC §9), whichever order the restore loads the tables in: a
# custom-format dump restored as is, a directory dump restored with
# pg_restore -j 4, and a custom-format dump restored from a reordered -L list
# that loads the registration first and the catalogs last, and a plain
# SQL dump run with psql.  The category rules, saved selections, status
# history and count summary come back too: verify_history() and
# verify_counts() find nothing after each restore.  Needs
# PGHOST/PGPORT/PGUSER of a running cluster with the extension installed.
set -euo pipefail

src=lead_mgmt_dump_src
dst=lead_mgmt_dump_dst
work=$(mktemp -d /tmp/lead_mgmt_dump.XXXXXX)
trap 'rm -rf "$work"' EXIT
dump=$work/dump.custom

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

for db in "$src" "$dst"; do
	q -d postgres -c "DROP DATABASE IF EXISTS $db"
done
q -d postgres -c "CREATE DATABASE $src"

q -d "$src" >/dev/null <<'SQL'
CREATE EXTENSION lead_mgmt;
CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name');
-- customisations of shipped rows
UPDATE lead_mgmt.lead_status SET name = 'New', rank = 10, stale_after_days = 7 WHERE key = 'open';
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'contacting';
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'renurture';
UPDATE lead_mgmt.category SET enable_lead_status = true, rank = 0 WHERE key = 'opportunity';
UPDATE lead_mgmt.category SET deleted = true WHERE key = 'lost_opportunity';
UPDATE lead_mgmt.category_label SET name = 'Ny lead' WHERE category = 'lead' AND language = 'nb';
UPDATE lead_mgmt.category_group_label SET name = 'Prospekt' WHERE category_group = 'potential_customer' AND language = 'nb';
-- rows of one's own
INSERT INTO lead_mgmt.lead_status (key, name, kind, rank) VALUES ('demo_booked', 'Demo booked', 'working', 6);
INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status) VALUES ('webinar', 'Webinar', 'potential_customer', true);
INSERT INTO lead_mgmt.category_label (category, language, name) VALUES ('webinar', 'nb', 'Webinar-påmeldt');
INSERT INTO lead_mgmt.status_transition VALUES ('demo_booked', 'qualified'), ('demo_booked', 'disqualified');
INSERT INTO lead_mgmt.category_rule (status, category, automatic) VALUES ('qualified', 'opportunity', true);
INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('disqualified', 'partner'), ('demo_booked', 'webinar');
INSERT INTO lead_mgmt.selection (name, entity, criteria, description)
VALUES ('booked', 'person', '{"lead_status": ["demo_booked"]}', 'Demos booked'),
       ('prospects', 'company', '{"category_group": ["potential_customer"]}', NULL);
-- data
INSERT INTO crm.company VALUES (1, 'Fjord AS', 'lead'), (2, 'Bre AS', 'customer'), (3, 'Dal AS', 'webinar');
INSERT INTO crm.person VALUES (1, 1, 'Ann'), (2, 2, 'Bob'), (3, 3, 'Cid');
UPDATE crm.person SET lead_status = 'demo_booked' WHERE id = 3;
UPDATE crm.company SET category = 'mql' WHERE id = 2;
SQL

snapshot() {
	q -d "$1" -f "$(dirname "$0")/catalog_snapshot.sql"
	q -d "$1" <<'SQL'
SELECT 'registration', company_table, person_table, company_column, label_column, category_fkey, lead_status_fkey FROM lead_mgmt.registration;
SELECT 'company', id, category FROM crm.company ORDER BY id;
SELECT 'person', id, company_id, lead_status FROM crm.person ORDER BY id;
SELECT 'history', person_id, company_id, from_status, to_status, event, category, changed_by FROM lead_mgmt.status_history ORDER BY seq;
SELECT 'replay', count(*) FROM lead_mgmt.verify_history();
SELECT 'recount', count(*) FROM lead_mgmt.verify_counts();
SELECT 'category_rule', status, category, enabled, automatic FROM lead_mgmt.category_rule ORDER BY 2, 3;
SELECT 'selection', name, entity, criteria, description FROM lead_mgmt.selection ORDER BY 2;
SELECT 'selection_members', s.name, m.* FROM lead_mgmt.selection s, lead_mgmt.selection_members(s.name) m ORDER BY 2, 3;
SELECT 'status_counts', lead_status, visible, retained FROM lead_mgmt.status_counts ORDER BY 2;
SELECT 'board_columns', lead_status, cards FROM lead_mgmt.board_columns ORDER BY 2;
SQL
}

snapshot "$src" >"$work/before"
pg_dump -Fc -f "$dump" "$src"
pg_dump -Fd -f "$work/dump.dir" "$src"
pg_dump -Fp -f "$work/dump.sql" "$src"

# the registration's data first, the catalogs' data (and the rules', which
# have foreign keys to them: pg_dump orders those) after all other data
pg_restore -l "$dump" >"$work/list"
awk -v catalogs='TABLE DATA lead_mgmt (category|lead_status|status_transition|category_label|lead_status_label|category_group_label|category_rule) ' '
	/TABLE DATA lead_mgmt registration / { next }
	/TABLE DATA / && !seen { seen = 1; while ((getline line < reg) > 0) print line }
	$0 ~ catalogs { held = held $0 "\n"; next }
	!/TABLE DATA / && seen && !done { printf "%s", held; done = 1 }
	{ print }
' reg=<(grep -E 'TABLE DATA lead_mgmt registration ' "$work/list") "$work/list" >"$work/list.reordered"

restore() {
	case $1 in
		plain) pg_restore --exit-on-error -d "$dst" "$dump" ;;
		parallel) pg_restore --exit-on-error -j 4 -d "$dst" "$work/dump.dir" ;;
		reordered) pg_restore --exit-on-error -L "$work/list.reordered" -d "$dst" "$dump" ;;
		sql) psql -X -q -v ON_ERROR_STOP=1 -d "$dst" -f "$work/dump.sql" >/dev/null ;;
	esac
}

for how in plain parallel reordered sql; do
q -d postgres -c "DROP DATABASE IF EXISTS $dst"
q -d postgres -c "CREATE DATABASE $dst"
restore "$how" || { echo "restore ($how) failed"; exit 1; }
snapshot "$dst" >"$work/after"
if ! diff -u "$work/before" "$work/after"; then
	echo "dump and restore ($how) changed the data above (- before, + after)"
	exit 1
fi
echo "restore ($how): catalogs, labels, rules, selections, registration, data, history and counts identical"

# behaviour after restore: the restored default, retention, deleted
# statuses, transitions, and the customised lead-enabled category
after=$(q -d "$dst" <<'SQL'
SET client_min_messages = warning;
INSERT INTO crm.company VALUES (10, 'Restored Opportunity AS', 'opportunity');
INSERT INTO crm.person VALUES (10, 10, 'Dag'), (11, 1, 'Eli');
SELECT 'new persons: ' || string_agg(id || '=' || lead_status, ' ' ORDER BY id) FROM crm.person WHERE id >= 10;
DO $$
BEGIN
    BEGIN
        UPDATE crm.person SET lead_status = 'renurture' WHERE id = 10;
        RAISE EXCEPTION 'deleted status was set';
    EXCEPTION WHEN SQLSTATE '23L03' THEN NULL;
    END;
    BEGIN
        UPDATE crm.person SET lead_status = 'open' WHERE id = 3;
        RAISE EXCEPTION 'transition rule ignored';
    EXCEPTION WHEN SQLSTATE '23L04' THEN NULL;
    END;
    BEGIN
        UPDATE crm.person SET lead_status = 'open' WHERE id = 2 AND false;
        UPDATE crm.company SET category = 'partner' WHERE id = 1;
        UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1;
        RAISE EXCEPTION 'status set on a hidden person';
    EXCEPTION WHEN SQLSTATE '23L01' THEN NULL;
    END;
END
$$;
DO $$
BEGIN
    -- the views came back over the restored tables, and DDL still works
    IF (SELECT count(*) FROM lead_mgmt.person_leads) <> (SELECT count(*) FROM crm.person) THEN
        RAISE EXCEPTION 'lead_mgmt.person_leads does not list every restored person';
    END IF;
    IF (SELECT sum(cards) FROM lead_mgmt.board_columns)
       <> (SELECT count(*) FROM lead_mgmt.person_leads WHERE visible) THEN
        RAISE EXCEPTION 'board columns and cards disagree after restore';
    END IF;
    ALTER TABLE crm.person ALTER COLUMN name TYPE varchar(100);
    IF to_regclass('lead_mgmt.person_leads') IS NULL THEN
        RAISE EXCEPTION 'the views did not come back after ALTER TABLE';
    END IF;
END
$$;
SELECT 'behaviour checks passed';
SQL
)
echo "$after"
[ "$(printf '%s\n' "$after" | head -n 1)" = "new persons: 10=contacting 11=contacting" ] ||
	{ echo "restored default status or lead-enabled category not applied ($how)"; exit 1; }
done

for db in "$src" "$dst"; do
	q -d postgres -c "DROP DATABASE $db"
done
echo "dump and restore: ok"
