-- Mirrors migrations/sqlite/0017_lead_search_fields.sql. Leads.GetByQuickSearch: one index range
-- per searched column (src/store/mod.rs QUICK_SEARCH_COLUMNS), partial on live leads, built
-- COLLATE "C" as the query compares, so that a prefix is one range of code points whatever the
-- database's collation.
CREATE INDEX leads_search_name ON leads (tenant_id,
    (lower(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))) COLLATE "C")
    WHERE deleted_at IS NULL;
CREATE INDEX leads_search_last   ON leads (tenant_id, (lower(last_name)) COLLATE "C") WHERE deleted_at IS NULL;
CREATE INDEX leads_search_email  ON leads (tenant_id, (email_lc) COLLATE "C")         WHERE deleted_at IS NULL;
CREATE INDEX leads_search_phone  ON leads (tenant_id, (phone) COLLATE "C")            WHERE deleted_at IS NULL;
CREATE INDEX leads_search_mobile ON leads (tenant_id, (mobile) COLLATE "C")           WHERE deleted_at IS NULL;

-- LeadsMetaData.Get: the names of the tenant's custom lead fields, kept by a trigger in the
-- transaction of every lead write; a name stays when its leads go. At most
-- store::MAX_LEAD_FIELDS per tenant, checked by the lead writes before the trigger runs.
CREATE TABLE lead_fields (
    tenant_id bigint NOT NULL,
    name      text   NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

INSERT INTO lead_fields (tenant_id, name)
SELECT DISTINCT l.tenant_id, k FROM leads l, jsonb_object_keys(l.attributes) k
ON CONFLICT DO NOTHING;

CREATE FUNCTION lead_fields_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lead_fields (tenant_id, name)
  SELECT NEW.tenant_id, k FROM jsonb_object_keys(NEW.attributes) k
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER lead_fields_keep AFTER INSERT OR UPDATE OF attributes ON leads
  FOR EACH ROW EXECUTE FUNCTION lead_fields_keep();
