#!/usr/bin/python3
# Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
#
# A real client reads the views: psycopg 3 with server-side prepared
# statements (prepare=True) sees a change of lead_mgmt.language and a
# catalog rename at once, on the next execution of the same statement.
# Connects with the libpq environment (PGHOST, PGPORT, PGUSER) to a
# database it creates and drops.
import sys

import psycopg

DB = "lead_mgmt_client"
failures = 0


def check(what, have, want):
    global failures
    if have == want:
        print("ok - %s" % what)
    else:
        failures += 1
        print("not ok - %s\n#   have: %r\n#   want: %r" % (what, have, want))


with psycopg.connect(dbname="postgres", autocommit=True) as admin:
    admin.execute("DROP DATABASE IF EXISTS %s" % DB)
    admin.execute("CREATE DATABASE %s" % DB)

try:
    with psycopg.connect(dbname=DB, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute("CREATE EXTENSION lead_mgmt")
        conn.execute("CREATE SCHEMA crm")
        conn.execute("CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("CREATE TABLE crm.person (id int PRIMARY KEY,"
                     " company_id int REFERENCES crm.company, name text NOT NULL)")
        conn.execute("CREATE INDEX ON crm.person (company_id)")
        conn.execute("SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name')")
        conn.execute("INSERT INTO crm.company VALUES (1, 'Acme', 'lead')")
        conn.execute("INSERT INTO crm.person VALUES (1, 1, 'Ada'), (2, 1, 'Ben')")
        conn.execute("UPDATE crm.person SET lead_status = 'contacting' WHERE id = 2")

        board = "SELECT lead_status, status_name, cards FROM lead_mgmt.board_columns WHERE rank <= %s ORDER BY position"
        person = "SELECT status_name, category_name, label FROM lead_mgmt.person_leads WHERE person_id = %s"
        # executed often enough to be prepared on the server, then again
        for _ in range(3):
            rows = conn.execute(board, (2,), prepare=True).fetchall()
            one = conn.execute(person, (1,), prepare=True).fetchone()
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
        check("the statements are prepared on the server", prepared >= 2, True)
        check("board columns in English", rows,
              [("open", "Open", 1), ("contacting", "Contacting", 1)])
        check("person in English", one, ("Open", "Lead", "Ada"))

        conn.execute("SET lead_mgmt.language = nb")
        check("the same prepared statement after SET lead_mgmt.language = nb",
              conn.execute(board, (2,), prepare=True).fetchall(),
              [("open", "Åpen", 1), ("contacting", "Kontakter", 1)])
        check("person in Norwegian", conn.execute(person, (1,), prepare=True).fetchone(),
              ("Åpen", "Lead", "Ada"))

        conn.execute("RESET lead_mgmt.language")
        conn.execute("UPDATE lead_mgmt.lead_status SET name = 'New' WHERE key = 'open'")
        conn.execute("UPDATE lead_mgmt.category SET name = 'Prospect' WHERE key = 'lead'")
        check("a renamed status, at once", conn.execute(board, (2,), prepare=True).fetchall(),
              [("open", "New", 1), ("contacting", "Contacting", 1)])
        check("a renamed category, at once", conn.execute(person, (1,), prepare=True).fetchone(),
              ("New", "Prospect", "Ada"))

        conn.execute("UPDATE crm.person SET lead_status = 'qualified' WHERE id = 1")
        check("a status change, at once", conn.execute(board, (5,), prepare=True).fetchall(),
              [("open", "New", 0), ("contacting", "Contacting", 1), ("disqualified", "Disqualified", 0),
               ("renurture", "Re-nurture", 0), ("qualified", "Qualified", 1)])

        conn.execute("SELECT lead_mgmt.unmanage()")
        conn.execute("DROP TABLE lead_mgmt.status_history")
finally:
    with psycopg.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS %s" % DB)

sys.exit(1 if failures else 0)
