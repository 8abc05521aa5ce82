-- A resource's activities of one Salesloft type, counted and paged from the resource indexes alone:
-- both now end with sl_type, so `type=…&resource_type=…&resource_id=…` (with paging counts) tests
-- the type inside the index instead of reading every one of the resource's rows from the table.
-- The id is spelled out before sl_type so that the index order still serves ORDER BY date, id.
DROP INDEX activities_res_occurred;
DROP INDEX activities_res_updated;
CREATE INDEX activities_res_occurred ON activities(tenant_id, res_kind, res_id, occurred_at, id, sl_type);
CREATE INDEX activities_res_updated  ON activities(tenant_id, res_kind, res_id, updated_at, id, sl_type);
