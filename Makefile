# lead_mgmt — PGXS build
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
EXTENSION   = lead_mgmt
# the version lives in the control file only
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big  = lead_mgmt
OBJS = \
	src/lead_mgmt.o \
	src/citus.o \
	src/catalog_cache.o \
	src/category_lock.o \
	src/layout.o \
	src/company_probe.o \
	src/company_cache.o \
	src/pending.o \
	src/decide.o \
	src/sink.o \
	src/cascade.o \
	src/refusal.o \
	src/person_trigger.o \
	src/company_trigger.o \
	src/catalog_trigger.o \
	src/manage.o \
	src/labels.o \
	src/history.o \
	src/automation.o \
	src/direct.o \
	src/counts.o

# The install script is edited as src/sql/lead_mgmt.sql and copied to the
# versioned name at build time; the install scripts of released versions are
# kept as they shipped, and every released version has an upgrade script.
# The views (src/sql/views.sql), the history analytics, category rules
# and merges (src/sql/history.sql), lead_mgmt.distribute() for Citus
# (src/sql/citus.sql) and the DROP EXTENSION guard (src/sql/drop_guard.sql)
# are appended to the install script and to the upgrade script from the
# last release, so both create them alike.
LAST_RELEASE = 1.0.0
UPGRADE     = $(EXTENSION)--$(LAST_RELEASE)--$(EXTVERSION).sql
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADE)
DATA        = $(wildcard src/sql/$(EXTENSION)--*.sql) \
              $(filter-out src/sql/updates/$(UPGRADE),$(wildcard src/sql/updates/$(EXTENSION)--*--*.sql))

# pg_regress suite: sql/ + expected/
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --dbname=lead_mgmt_regress

# isolation suite: test/isolation/specs + test/isolation/expected
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso --dbname=lead_mgmt_isolation

EXTRA_CLEAN = $(DATA_built) test/isolation/output_iso

PG_CONFIG ?= pg_config
PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: src/sql/$(EXTENSION).sql src/sql/views.sql src/sql/history.sql src/sql/citus.sql src/sql/drop_guard.sql
	cat $^ >$@

$(UPGRADE): src/sql/updates/$(UPGRADE) src/sql/views.sql src/sql/history.sql src/sql/citus.sql src/sql/drop_guard.sql
	cat $^ >$@

$(OBJS): $(wildcard src/*.h)

# pgTAP suite (needs pg_prove and the pgtap extension on the server)
PROVE_FLAGS ?= --failures
.PHONY: prove
prove:
	pg_prove $(PROVE_FLAGS) test/pgtap/*.sql

# static analysis
.PHONY: lint
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --max-configs=1 \
		--inline-suppr -I$(shell $(PG_CONFIG) --includedir-server) --suppress=missingIncludeSystem --suppress=toomanyconfigs src/*.c

# clang-tidy: bug-prone constructs and the static analyser
TIDY_CHECKS = -*,bugprone-*,clang-analyzer-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-macro-parentheses,-bugprone-assignment-in-if-condition,-bugprone-implicit-widening-of-multiplication-result,-clang-analyzer-security.insecureAPI.*
.PHONY: tidy
tidy:
	clang-tidy --quiet --warnings-as-errors='*' -checks='$(TIDY_CHECKS)' src/*.c -- \
		-I$(shell $(PG_CONFIG) --includedir-server) -Isrc

# release archive for PGXN, from the committed tree
.PHONY: dist
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ -o $(EXTENSION)-$(EXTVERSION).zip HEAD
