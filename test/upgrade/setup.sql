-- The same tables, customisations and data, for the database made at 1.0.0
-- and updated, and for the database made at the current version.
CREATE SCHEMA crm;
CREATE TABLE crm.company (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.person (id int PRIMARY KEY, company_id int REFERENCES crm.company, name text, owner text);
CREATE INDEX ON crm.person (company_id);
SELECT lead_mgmt.manage('crm.company', 'crm.person', label_column => 'name', owner_column => 'owner');
-- customisations of shipped rows
UPDATE lead_mgmt.lead_status SET name = 'New', rank = 10, stale_after_days = 7 WHERE key = 'open';
UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = 'contacting';
UPDATE lead_mgmt.lead_status SET deleted = true WHERE key = 'renurture';
UPDATE lead_mgmt.category SET enable_lead_status = true, rank = 0 WHERE key = 'opportunity';
UPDATE lead_mgmt.category SET deleted = true WHERE key = 'lost_opportunity';
UPDATE lead_mgmt.category_label SET name = 'Ny lead' WHERE category = 'lead' AND language = 'nb';
UPDATE lead_mgmt.category_group_label SET name = 'Prospekt' WHERE category_group = 'potential_customer' AND language = 'nb';
-- rows of one's own
INSERT INTO lead_mgmt.lead_status (key, name, kind, rank) VALUES ('demo_booked', 'Demo booked', 'working', 6);
INSERT INTO lead_mgmt.lead_status_label (status, language, name) VALUES ('demo_booked', 'nb', 'Demo avtalt');
INSERT INTO lead_mgmt.category (key, name, category_group, enable_lead_status) VALUES ('webinar', 'Webinar', 'potential_customer', true);
INSERT INTO lead_mgmt.category_label (category, language, name) VALUES ('webinar', 'nb', 'Webinar-påmeldt');
INSERT INTO lead_mgmt.status_transition VALUES ('demo_booked', 'qualified'), ('demo_booked', 'disqualified');
-- data
INSERT INTO crm.company SELECT g, 'Company ' || g, (ARRAY['lead', 'customer', 'webinar', 'mql', 'partner'])[1 + g % 5]
FROM generate_series(1, 200) g;
INSERT INTO crm.person SELECT g, 1 + g % 200, 'Person ' || g, 'owner' || g % 7 FROM generate_series(1, 2000) g;
UPDATE crm.person SET lead_status = 'demo_booked' WHERE company_id % 5 = 3 AND id % 3 = 0;
UPDATE crm.person SET lead_status = 'qualified' WHERE company_id % 5 = 3 AND id % 3 = 0 AND id % 2 = 0;
UPDATE crm.company SET category = 'mql' WHERE id % 5 = 2 AND id < 50;
UPDATE crm.company SET category = 'customer' WHERE id % 5 = 4 AND id < 50;
