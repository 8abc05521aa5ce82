-- A Sales_User's list (activities of the leads they own) straight from an index: each activity
-- carries its lead's owner, so the page walks (tenant, lead owner, date) in order instead of the
-- tenant's date index filtered by ownership. Triggers keep the copy right when a lead changes
-- owner or an activity changes lead (no code path does either today).
ALTER TABLE activities ADD COLUMN lead_owner_id INTEGER;
UPDATE activities SET lead_owner_id = (SELECT l.owner_id FROM leads l WHERE l.id = activities.lead_id)
 WHERE lead_id IS NOT NULL;
CREATE INDEX activities_leadowner_occurred ON activities(tenant_id, lead_owner_id, occurred_at, id);
CREATE INDEX activities_leadowner_updated  ON activities(tenant_id, lead_owner_id, updated_at);
CREATE TRIGGER leads_owner_restamp AFTER UPDATE OF owner_id ON leads
 WHEN NEW.owner_id IS NOT OLD.owner_id
BEGIN
  UPDATE activities SET lead_owner_id = NEW.owner_id WHERE tenant_id = NEW.tenant_id AND lead_id = NEW.id;
END;
CREATE TRIGGER activities_lead_restamp AFTER UPDATE OF lead_id ON activities
 WHEN NEW.lead_id IS NOT OLD.lead_id
BEGIN
  UPDATE activities SET lead_owner_id = (SELECT l.owner_id FROM leads l WHERE l.id = NEW.lead_id)
   WHERE id = NEW.id;
END;
