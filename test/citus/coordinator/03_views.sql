-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- The views on a distributed pair: the same numbers as queries of the
-- tables, labels in the language given with SET LOCAL.
SET client_min_messages = warning;
SELECT plan(9);

SELECT value_of($$SELECT count(*) FROM crm.person p JOIN crm.company c ON c.id = p.company_id
                   JOIN lead_mgmt.category k ON k.key = c.category
                  WHERE k.enable_lead_status AND p.lead_status IS NOT NULL$$) AS leads \gset
SELECT value_of('SELECT count(*) FROM crm.person') AS persons \gset

SELECT is(value_of('SELECT count(*) FROM lead_mgmt.person_leads WHERE visible'), :'leads',
          'person_leads lists every shown lead of every shard');
SELECT is(value_of('SELECT count(*) FROM lead_mgmt.person_leads'), :'persons',
          'and every person once');
SELECT is(value_of('SELECT sum(leads) FROM lead_mgmt.company_leads'), :'leads',
          'company_leads counts them per company');
SELECT is(value_of('SELECT count(*) FROM lead_mgmt.board'),
          value_of('SELECT sum(cards) FROM lead_mgmt.board_columns'),
          'the board''s cards are its columns'' counts');
SELECT is(value_of('SELECT sum(leads) FROM lead_mgmt.aging'), :'leads', 'aging counts every shown lead');

INSERT INTO lead_mgmt.selection (name, criteria) VALUES ('citus open', '{"lead_status": ["open"]}');
SELECT is(value_of($$SELECT count(*) FROM lead_mgmt.selection_members('citus open')$$),
          value_of($$SELECT count(*) FROM lead_mgmt.person_leads WHERE visible AND lead_status = 'open'$$),
          'selection_members() evaluates on the distributed pair');
DELETE FROM lead_mgmt.selection WHERE name = 'citus open';

INSERT INTO lead_mgmt.category_rule (status, category) VALUES ('open', 'mql');
SELECT cmp_ok(value_of('SELECT count(*) FROM lead_mgmt.category_suggestions')::int, '>', 0,
              'category_suggestions lists suggest-only rules');
DELETE FROM lead_mgmt.category_rule;

BEGIN;
SET LOCAL lead_mgmt.language = 'nb';
SELECT is(value_of($$SELECT string_agg(DISTINCT status_name, ',') FROM lead_mgmt.person_leads WHERE visible AND lead_status = 'open'$$),
          'Åpen', 'labels in the language given with SET LOCAL, on every shard');
SELECT is(value_of($$SELECT status_name FROM lead_mgmt.board_columns WHERE lead_status = 'contacting'$$),
          'Kontakter', 'and in the count views');
COMMIT;

SELECT * FROM finish();
