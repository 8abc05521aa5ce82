-- Activity pages take their types' names and attributes from each server process's memory
-- (src/store/labels.rs). Any change to a tenant's types, through any process or out of band,
-- bumps the tenant's types_version; every page reads that version in its own snapshot, and a
-- process that finds it newer than the one it noted drops the types it holds before labelling.
-- So a page shows no type older than its rows, whichever process changed the type.
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS types_version bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION activity_types_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tenants SET types_version = types_version + 1
   WHERE id IN (SELECT DISTINCT tenant_id FROM old_types);
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS activity_types_version_update ON activity_types;
CREATE TRIGGER activity_types_version_update AFTER UPDATE ON activity_types
  REFERENCING OLD TABLE AS old_types
  FOR EACH STATEMENT EXECUTE FUNCTION activity_types_version();

DROP TRIGGER IF EXISTS activity_types_version_delete ON activity_types;
CREATE TRIGGER activity_types_version_delete AFTER DELETE ON activity_types
  REFERENCING OLD TABLE AS old_types
  FOR EACH STATEMENT EXECUTE FUNCTION activity_types_version();
