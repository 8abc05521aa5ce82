-- Salesloft's calls and notes sort by created_at, which within a tenant orders as the id does
-- (both are taken in one insert under the tenant's clock): the activities of one Salesloft type in
-- id order straight from this index instead of sorting every one of them.
CREATE INDEX IF NOT EXISTS activities_sl_id ON activities(tenant_id, sl_type, id);
