-- activities_pinned (tenant_id, pinned_at) serves no statement: pinned=true pages walk
-- activities_pinned_occurred or activities_pinned_updated (docs/query-plans.md) and nothing sorts
-- by pinned_at. docs/benchmarks.md, "The write path's index bill".
DROP INDEX IF EXISTS activities_pinned;
