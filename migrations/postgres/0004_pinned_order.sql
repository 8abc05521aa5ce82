-- Mirrors migrations/sqlite/0004_pinned_order.sql. Pinned activities in either sort order straight from an index (`pinned=true` pages are then
-- read in order instead of sorting every pinned activity of the tenant).
CREATE INDEX activities_pinned_occurred ON activities(tenant_id, occurred_at, id) WHERE pinned_at IS NOT NULL;
CREATE INDEX activities_pinned_updated  ON activities(tenant_id, updated_at)      WHERE pinned_at IS NOT NULL;
