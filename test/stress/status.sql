-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- A visible status changes (rule B4).  The person is picked as visible in the
-- same statement; a category change that commits between that read and the
-- trigger's own check hides the status, and B5 refuses it (23L01): that, and
-- only that, is tolerated and counted.
\set pid random(1, :maxperson)
\set st random(1, 5)
DO $$
BEGIN
    UPDATE crm.person p
       SET lead_status = (ARRAY['open', 'contacting', 'disqualified', 'renurture', 'qualified'])[:st]
      FROM crm.company c
     WHERE p.id = :pid AND c.id = p.company_id AND lead_mgmt.is_lead_enabled(c.category);
EXCEPTION WHEN SQLSTATE '23L01' THEN
    INSERT INTO stress.tolerated (sqlstate) VALUES ('23L01');
END
$$;
