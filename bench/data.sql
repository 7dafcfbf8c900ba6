-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
/*
 * bench/data.sql
 *		The benchmark data of one variant's database: companies of mixed
 *		categories, and the persons to load, precomputed into an unlogged
 *		staging table so that generating them stays out of the timings.
 *
 * psql variables: :companies, :persons, :catalog (schema of the catalogs).
 * Everything is a function of the row number, so every database gets the
 * same rows.  Companies by id % 10: 0-2 lead, 3 mql (both lead-enabled),
 * 4-5 opportunity, 6-7 customer, 8 partner, 9 no category.
 * bench/pgbench_rows.sql relies on that pattern.
 */

INSERT INTO public.company (id, name, category)
SELECT i, 'Company ' || i,
       (ARRAY['lead', 'lead', 'lead', 'mql', 'opportunity', 'opportunity',
              'customer', 'customer', 'partner', NULL])[i % 10 + 1]
  FROM generate_series(1, :companies) AS i;

/*
 * Persons spread over the companies in hash order.  lead_status holds what
 * the rules assign (the default status in lead-enabled companies), for the
 * "same rows" baseline; the other variants leave it out of the insert.
 */
CREATE UNLOGGED TABLE public.person_staging (
    id          bigint NOT NULL,
    company_id  integer NOT NULL,
    name        text NOT NULL,
    email       text NOT NULL,
    lead_status text
);

INSERT INTO public.person_staging (id, company_id, name, email, lead_status)
SELECT g.id, g.company_id, 'Person ' || g.id, 'person' || g.id || '@example.com',
       CASE WHEN k.enable_lead_status AND k.category_group = 'potential_customer'
            THEN d.key END
  FROM (SELECT i AS id, (hashint8(i) & 2147483647) % :companies + 1 AS company_id
          FROM generate_series(1, :persons::bigint) AS i) AS g
  JOIN public.company c ON c.id = g.company_id
  LEFT JOIN :"catalog".category k ON k.key = c.category
 CROSS JOIN (SELECT s.key FROM :"catalog".lead_status s
              WHERE s.is_default AND NOT s.deleted) AS d
 ORDER BY g.id;
