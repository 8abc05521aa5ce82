-- Leads.Get selects and orders a tenant's live leads by when they were created or last modified:
-- one index range each, instead of a walk of every lead of the tenant. Partial on live leads, as
-- the lookups by email, phone and mobile are; the id ends each key for ORDER BY date, id.
CREATE INDEX leads_tenant_created  ON leads(tenant_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_tenant_modified ON leads(tenant_id, updated_at, id) WHERE deleted_at IS NULL;
