-- Mirrors migrations/sqlite/0015_activity_weekly_counts.sql: the web UI's overview charts read
-- per-tenant, per-week (Monday 00:00 UTC, microseconds), per-type, per-owner, per-lead-owner
-- (0 for none) activity counts kept by triggers in the transaction of every write of
-- `activities`, instead of scanning the tenant's history.
CREATE TABLE activity_weekly_counts (
    tenant_id     bigint NOT NULL,
    week_start    bigint NOT NULL,
    type_id       bigint NOT NULL,
    owner_id      bigint NOT NULL,
    lead_owner_id bigint NOT NULL,
    n             bigint NOT NULL,
    PRIMARY KEY (tenant_id, week_start, type_id, owner_id, lead_owner_id)
);
CREATE INDEX activity_weekly_counts_lead_owner
    ON activity_weekly_counts(tenant_id, lead_owner_id, week_start);

-- The Monday 00:00 UTC starting the week of `us` (1970-01-01 was a Thursday: 3 days).
CREATE FUNCTION activity_week_start(us bigint) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT us - (((us + 259200000000) % 604800000000) + 604800000000) % 604800000000 $$;

INSERT INTO activity_weekly_counts (tenant_id, week_start, type_id, owner_id, lead_owner_id, n)
SELECT tenant_id, activity_week_start(occurred_at), type_id, owner_id,
       coalesce(lead_owner_id, 0), count(*)
  FROM activities GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION activity_weekly_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE activity_weekly_counts SET n = n - 1
     WHERE tenant_id = OLD.tenant_id AND week_start = activity_week_start(OLD.occurred_at)
       AND type_id = OLD.type_id AND owner_id = OLD.owner_id
       AND lead_owner_id = coalesce(OLD.lead_owner_id, 0);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO activity_weekly_counts (tenant_id, week_start, type_id, owner_id, lead_owner_id, n)
    VALUES (NEW.tenant_id, activity_week_start(NEW.occurred_at), NEW.type_id, NEW.owner_id,
            coalesce(NEW.lead_owner_id, 0), 1)
    ON CONFLICT (tenant_id, week_start, type_id, owner_id, lead_owner_id)
    DO UPDATE SET n = activity_weekly_counts.n + 1;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER activity_weekly_counts_insert AFTER INSERT ON activities
  FOR EACH ROW EXECUTE FUNCTION activity_weekly_counts_apply();
CREATE TRIGGER activity_weekly_counts_delete AFTER DELETE ON activities
  FOR EACH ROW EXECUTE FUNCTION activity_weekly_counts_apply();
CREATE TRIGGER activity_weekly_counts_update
  AFTER UPDATE OF occurred_at, type_id, owner_id, lead_owner_id, tenant_id ON activities
  FOR EACH ROW
  WHEN (NEW.occurred_at IS DISTINCT FROM OLD.occurred_at OR NEW.type_id IS DISTINCT FROM OLD.type_id
     OR NEW.owner_id IS DISTINCT FROM OLD.owner_id
     OR NEW.lead_owner_id IS DISTINCT FROM OLD.lead_owner_id
     OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id)
  EXECUTE FUNCTION activity_weekly_counts_apply();
