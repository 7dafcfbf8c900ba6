-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
/*
 * bench/catalogs.sql
 *		Plain copies of the lead_mgmt catalogs, for the databases that run
 *		without the extension (the baseline and the PL/pgSQL rules).
 *
 * Same keys, types and columns as lead_mgmt.category, lead_mgmt.lead_status
 * and lead_mgmt.status_transition, without their triggers.  bench/run copies
 * the shipped rows over from lead_mgmt, so every variant sees the same
 * catalog content.
 */

CREATE SCHEMA lead_catalog;

CREATE TYPE lead_catalog.category_group AS ENUM (
    'unknown', 'customer', 'potential_customer', 'partner', 'lost', 'other'
);

CREATE TYPE lead_catalog.status_kind AS ENUM (
    'open', 'working', 'nurture', 'qualified', 'disqualified'
);

CREATE TABLE lead_catalog.category (
    key                 text PRIMARY KEY,
    name                text NOT NULL,
    description         text,
    category_group      lead_catalog.category_group NOT NULL DEFAULT 'unknown',
    enable_lead_status  boolean NOT NULL DEFAULT false,
    rank                integer NOT NULL DEFAULT 0,
    deleted             boolean NOT NULL DEFAULT false
);

CREATE TABLE lead_catalog.lead_status (
    key                 text PRIMARY KEY,
    name                text NOT NULL,
    description         text,
    kind                lead_catalog.status_kind NOT NULL DEFAULT 'working',
    rank                integer NOT NULL DEFAULT 0,
    is_default          boolean NOT NULL DEFAULT false,
    deleted             boolean NOT NULL DEFAULT false,
    stale_after_days    integer
);
CREATE UNIQUE INDEX lead_status_single_default
    ON lead_catalog.lead_status (is_default) WHERE is_default;

CREATE TABLE lead_catalog.status_transition (
    from_status text NOT NULL REFERENCES lead_catalog.lead_status (key),
    to_status   text NOT NULL REFERENCES lead_catalog.lead_status (key),
    PRIMARY KEY (from_status, to_status)
);
