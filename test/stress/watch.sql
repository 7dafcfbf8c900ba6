-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- Taken while the clients run: every committed state must satisfy the
-- invariant, so one snapshot without it is a violation.
INSERT INTO stress.violation (at, person_id, company_id, category)
SELECT clock_timestamp(), p.id, c.id, c.category
  FROM crm.person p JOIN crm.company c ON c.id = p.company_id
 WHERE lead_mgmt.is_lead_enabled(c.category) AND p.lead_status IS NULL
 LIMIT 20;
\sleep 100 ms
