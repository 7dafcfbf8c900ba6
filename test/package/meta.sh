#!/usr/bin/env bash
# META.json is valid PGXN metadata (meta-spec 1.0.0, checked against
# test/package/pgxn-meta-1.0.0.schema.json), and every place that states
# the version agrees with the one place that sets it, lead_mgmt.control:
# the Makefile, META.json (version, provides), debian/changelog, CHANGELOG.md;
# the install script of that version builds from src/sql/lead_mgmt.sql, and
# every version in CHANGELOG.md has an upgrade path to it.
#
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 - <<'PY'
import json, sys
import jsonschema
meta = json.load(open("META.json"))
schema = json.load(open("test/package/pgxn-meta-1.0.0.schema.json"))
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(meta), key=lambda e: list(e.path))
for e in errors:
    print("META.json: %s: %s" % ("/".join(map(str, e.path)) or "(top)", e.message))
if errors:
    sys.exit(1)
# the schema itself must reject what the spec forbids
bad = dict(meta, version="1.1", license="GPL", extra_key=1)
if validator.is_valid(bad):
    print("the META.json schema accepts invalid metadata")
    sys.exit(1)
print("META.json: valid PGXN metadata (meta-spec 1.0.0)")
PY

fail=0
control=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" lead_mgmt.control)
check() {
	if [ "$2" != "$control" ]; then
		echo "version mismatch: $1 says '$2', lead_mgmt.control says '$control'"
		fail=1
	fi
}
[ -n "$control" ] || { echo "lead_mgmt.control has no default_version"; exit 1; }
check "Makefile (EXTVERSION)" "$(make -s -p -f Makefile PG_CONFIG="${PG_CONFIG:-pg_config}" 2>/dev/null | sed -n 's/^EXTVERSION := //p' | head -n 1)"
check "META.json version" "$(python3 -c 'import json; print(json.load(open("META.json"))["version"])')"
check "META.json provides" "$(python3 -c 'import json; print(json.load(open("META.json"))["provides"]["lead_mgmt"]["version"])')"
check "debian/changelog" "$(sed -n '1s/^[^ ]* (\([^)-]*\)-[^)]*).*/\1/p' debian/changelog)"
check "CHANGELOG.md" "$(sed -n 's/^## \([0-9][^ ]*\).*/\1/p' CHANGELOG.md | head -n 1)"

# every earlier version in CHANGELOG.md: its install script is kept and an
# upgrade path leads to the current version
for v in $(sed -n 's/^## \([0-9][^ ]*\).*/\1/p' CHANGELOG.md | tail -n +2); do
	[ -f "src/sql/lead_mgmt--$v.sql" ] || { echo "the install script of released $v is missing"; fail=1; }
	from=$v
	while [ "$from" != "$control" ]; do
		next=
		for f in src/sql/updates/lead_mgmt--"$from"--*.sql; do
			[ -e "$f" ] && next=${f##*--} && next=${next%.sql}
		done
		[ -n "$next" ] || { echo "no upgrade path from $v to $control (stuck at $from)"; fail=1; break; }
		from=$next
	done
done
# make dist: the release zip of the committed tree, under lead_mgmt-<version>/
if git rev-parse --verify -q HEAD >/dev/null; then
	zip=lead_mgmt-$control.zip
	make -s dist PG_CONFIG="${PG_CONFIG:-pg_config}" >/dev/null
	python3 - "$zip" "$control" <<'PY' || fail=1
import sys, zipfile
zip, version = sys.argv[1], sys.argv[2]
names = set(zipfile.ZipFile(zip).namelist())
prefix = "lead_mgmt-%s/" % version
need = ["META.json", "lead_mgmt.control", "Makefile", "LICENSE", "README.md", "src/sql/lead_mgmt.sql"]
missing = [n for n in need if prefix + n not in names]
outside = [n for n in names if not n.startswith(prefix)]
if missing or outside:
    print("make dist: %s missing %s, outside the prefix %s" % (zip, missing, outside[:3]))
    sys.exit(1)
print("make dist: %s with %d entries under %s" % (zip, len(names), prefix))
PY
	rm -f "$zip"
fi
[ "$fail" -eq 0 ] || exit 1
echo "versions agree: $control (control, Makefile, META.json, debian/changelog, CHANGELOG.md); upgrade paths complete"
