#!/usr/bin/env bash
# Build the Debian package postgresql-15-lead-mgmt from the tracked files
# (dpkg-buildpackage -us -uc -b, in a copy of the tree), install it with
# apt-get, check that the extension's files come from it, and run the
# pg_regress and isolation suites against the installed package with
# pg_buildext installcheck (a throwaway cluster of its own).  Afterwards the
# package is removed and the build tree's extension installed again, so the
# machine is left as it was.
#
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

lm_ensure_packages debhelper postgresql-server-dev-all dpkg-dev
cd "$LM_ROOT"
version=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" lead_mgmt.control)
debversion=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)
work=$(mktemp -d /tmp/lead_mgmt_deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir "$work/lead-mgmt"
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$work/lead-mgmt"
chmod -R a+rX "$work"

lm_log "building postgresql-$LM_PG_MAJOR-lead-mgmt $debversion"
(cd "$work/lead-mgmt" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
	{ tail -n 40 "$work/build.log"; exit 1; }
deb="$work/postgresql-$LM_PG_MAJOR-lead-mgmt_${debversion}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || { ls "$work"; echo "no package $deb"; exit 1; }

lm_log "installing $(basename "$deb")"
lm_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades "$deb" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; exit 1; }
restore() {
	lm_sudo dpkg -r "postgresql-$LM_PG_MAJOR-lead-mgmt" >/dev/null 2>&1 || true
	lm_build_install >/dev/null
	rm -rf "$work"
}
trap restore EXIT

sharedir=$("$PG_CONFIG" --sharedir)
libdir=$("$PG_CONFIG" --pkglibdir)
for f in "$libdir/lead_mgmt.so" "$sharedir/extension/lead_mgmt.control" \
	"$sharedir/extension/lead_mgmt--$version.sql" "$sharedir/extension/lead_mgmt--1.0.0.sql" \
	"$sharedir/extension/lead_mgmt--1.0.0--$version.sql"; do
	dpkg -S "$f" >/dev/null 2>&1 || { echo "$f is not installed by the package"; exit 1; }
done
echo "the package installs the library, the control file and the install and upgrade scripts"

lm_log "pg_buildext installcheck against the installed package"
(cd "$work/lead-mgmt" && pg_buildext installcheck) >"$work/check.log" 2>&1 || {
	cat "$work/check.log"
	find "$work/lead-mgmt" -name regression.diffs -exec head -n 100 {} \;
	exit 1
}
grep -E "tests passed|failed" "$work/check.log"
echo "debian package: built, installed and passed the regression suite"
