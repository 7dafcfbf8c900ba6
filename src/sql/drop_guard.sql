
------------------------------------------------------------------------------
-- Dropping lead_mgmt (SPEC section 9)
------------------------------------------------------------------------------

-- DROP EXTENSION lead_mgmt (or DROP SCHEMA lead_mgmt) while it manages
-- tables or keeps a status history is refused, saying what to run first;
-- with CASCADE the tables are unmanaged first and keep their data.
CREATE FUNCTION lead_mgmt.drop_guard() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'lm_drop_guard' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION lead_mgmt.drop_guard() FROM PUBLIC;
COMMENT ON FUNCTION lead_mgmt.drop_guard() IS
    'Event trigger: DROP EXTENSION lead_mgmt (or DROP SCHEMA lead_mgmt) is refused while tables are managed or a status history is kept; with CASCADE the tables are unmanaged first and keep their data';
CREATE EVENT TRIGGER lead_mgmt_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION lead_mgmt.drop_guard();
