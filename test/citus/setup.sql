-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
SET client_min_messages = error;
-- The Citus suite's data: a company/person pair keyed (company_id, id),
-- with rows before distribute() (Citus copies them into the shards).
CREATE SCHEMA crm;
CREATE TABLE crm.company (
    id      bigint PRIMARY KEY,
    name    text NOT NULL
);
CREATE TABLE crm.person (
    company_id  bigint NOT NULL REFERENCES crm.company (id),
    id          bigint NOT NULL,
    name        text,
    owner       text,
    PRIMARY KEY (company_id, id)
);
SELECT lead_mgmt.manage('crm.company', 'crm.person', owner_column => 'owner');

-- companies 1..20 before distribution: odd ones leads, even ones customers
INSERT INTO crm.company (id, name, category)
SELECT i, 'company ' || i, CASE WHEN i % 2 = 1 THEN 'lead' ELSE 'customer' END
  FROM generate_series(1, 20) i;
INSERT INTO crm.person (company_id, id, name, owner)
SELECT c, p, 'person ' || c || '/' || p, 'owner' || (p % 3)
  FROM generate_series(1, 20) c, generate_series(1, 5) p;

SELECT lead_mgmt.distribute(shard_count => 4);

-- Tests read single rows through this: a query on one shard that calls a
-- test function would be sent to that shard's node whole.
CREATE FUNCTION public.value_of(query text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    EXECUTE query INTO v;
    RETURN v;
END
$$;
