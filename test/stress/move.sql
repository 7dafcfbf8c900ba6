-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- A person moves to a random company (rules B2, B3).
\set pid random(1, :maxperson)
\set cid random(1, :companies)
UPDATE crm.person SET company_id = :cid WHERE id = :pid;
