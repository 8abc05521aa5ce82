-- Leads.GetByQuickSearch: one index range per searched column (src/store/mod.rs
-- QUICK_SEARCH_COLUMNS), partial on live leads as the query spells it. The email, phone and
-- mobile ranges use the unique indexes leads_tenant_email / _phone / _mobile.
CREATE INDEX leads_search_name ON leads(tenant_id, lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')))
    WHERE deleted_at IS NULL;
CREATE INDEX leads_search_last ON leads(tenant_id, lower(last_name)) WHERE deleted_at IS NULL;

-- LeadsMetaData.Get: the names of the tenant's custom lead fields (every attribute name a lead of
-- the tenant has held), kept by triggers in the transaction of every lead write, so the schema is
-- read in one index range instead of from every lead. A name stays when its leads go (a field is
-- part of the schema, as in LeadSquared). At most store::MAX_LEAD_FIELDS per tenant, checked by
-- the lead writes before the triggers run.
CREATE TABLE lead_fields (
    tenant_id INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

INSERT OR IGNORE INTO lead_fields (tenant_id, name)
SELECT DISTINCT l.tenant_id, j.key FROM leads l, json_each(l.attributes) j;

CREATE TRIGGER lead_fields_insert AFTER INSERT ON leads
BEGIN
  INSERT OR IGNORE INTO lead_fields (tenant_id, name)
  SELECT NEW.tenant_id, j.key FROM json_each(NEW.attributes) j;
END;

CREATE TRIGGER lead_fields_update AFTER UPDATE OF attributes ON leads
BEGIN
  INSERT OR IGNORE INTO lead_fields (tenant_id, name)
  SELECT NEW.tenant_id, j.key FROM json_each(NEW.attributes) j;
END;
