-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- bench/pgbench_rows.sql: the same transaction as pgbench_statement.sql,
-- with the lead status the rules would assign given by the client (the
-- "same rows" baseline).  bench/data.sql gives companies with id % 10 < 4 a
-- lead-enabled category; open is the default status.
\set cid random(1, :companies)
INSERT INTO public.person (company_id, name, email, lead_status)
VALUES (:cid, 'Person', 'person@example.com', CASE WHEN :cid % 10 < 4 THEN 'open' END);
