-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
-- The catalogs as customised, one line a row, in a fixed order: what dump
-- and restore (test/dump_restore.sh) and the update from 1.0.0
-- (test/upgrade/run.sh) must keep.  Columns both versions have.
SELECT 'status', key, name, kind, rank, is_default, deleted, stale_after_days, shipped FROM lead_mgmt.lead_status ORDER BY key;
SELECT 'category', key, name, category_group, enable_lead_status, rank, deleted, shipped FROM lead_mgmt.category ORDER BY key;
SELECT 'category_label', category, language, name, shipped FROM lead_mgmt.category_label ORDER BY 2, 3;
SELECT 'status_label', status, language, name, shipped FROM lead_mgmt.lead_status_label ORDER BY 2, 3;
SELECT 'group_label', category_group, language, name, shipped FROM lead_mgmt.category_group_label ORDER BY 2, 3;
SELECT 'transition', from_status, to_status FROM lead_mgmt.status_transition ORDER BY 2, 3;
