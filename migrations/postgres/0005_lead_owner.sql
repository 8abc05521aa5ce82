-- Mirrors migrations/sqlite/0005_lead_owner.sql. A Sales_User's list straight from an index: each
-- activity carries its lead's owner; triggers keep the copy right when a lead changes owner or an
-- activity changes lead (no code path does either today).
ALTER TABLE activities ADD COLUMN lead_owner_id bigint;
UPDATE activities a SET lead_owner_id = l.owner_id FROM leads l WHERE l.id = a.lead_id;
CREATE INDEX activities_leadowner_occurred ON activities(tenant_id, lead_owner_id, occurred_at, id);
CREATE INDEX activities_leadowner_updated  ON activities(tenant_id, lead_owner_id, updated_at);
CREATE FUNCTION leads_owner_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE activities SET lead_owner_id = NEW.owner_id WHERE tenant_id = NEW.tenant_id AND lead_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER leads_owner_restamp AFTER UPDATE OF owner_id ON leads
  FOR EACH ROW WHEN (NEW.owner_id IS DISTINCT FROM OLD.owner_id) EXECUTE FUNCTION leads_owner_restamp();
CREATE FUNCTION activities_lead_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE activities SET lead_owner_id = (SELECT l.owner_id FROM leads l WHERE l.id = NEW.lead_id)
   WHERE id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER activities_lead_restamp AFTER UPDATE OF lead_id ON activities
  FOR EACH ROW WHEN (NEW.lead_id IS DISTINCT FROM OLD.lead_id) EXECUTE FUNCTION activities_lead_restamp();
