-- activities_lead_event (tenant_id, lead_id, event_code, occurred_at, id) merges into
-- activities_lead_occurred, which carries event_code last: a lead's page filtered by event code
-- walks the lead's entries in time order and tests the code in the index, and its count stays
-- index-only, so the write path updates one lead-keyed B-tree fewer. docs/benchmarks.md, "The
-- write path's index bill".
DROP INDEX IF EXISTS activities_lead_event;
DROP INDEX IF EXISTS activities_lead_occurred;
CREATE INDEX activities_lead_occurred ON activities(tenant_id, lead_id, occurred_at, id, event_code);
