-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- bench/pgbench_statement.sql: one person per transaction into a random
-- company, no lead status given (what an application sends).
\set cid random(1, :companies)
INSERT INTO public.person (company_id, name, email)
VALUES (:cid, 'Person', 'person@example.com');
