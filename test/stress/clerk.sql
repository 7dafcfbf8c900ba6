-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- A sales rep adds a contact to a prospect company, then takes a moment
-- before the next one (rule B1).  Unlike the writers, these sessions sit idle
-- between transactions, so they come back to a catalog the administrator
-- has changed in the meantime, often more than once.
\set think random(50, 800)
INSERT INTO crm.person (company_id, name)
SELECT id, 'clerk' FROM crm.company WHERE category = 'prospect' ORDER BY random() LIMIT 1;
\sleep :think ms
