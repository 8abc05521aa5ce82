-- The web UI's overview charts: how many activities each tenant has per week (weeks start on
-- Monday 00:00 UTC, as microseconds), activity type, activity owner and lead owner (0 for an
-- activity on no lead), kept by triggers in the transaction of every write of `activities`, so
-- that a chart reads at most weeks × types × owners rows instead of the tenant's history.
CREATE TABLE activity_weekly_counts (
    tenant_id     INTEGER NOT NULL,
    week_start    INTEGER NOT NULL,
    type_id       INTEGER NOT NULL,
    owner_id      INTEGER NOT NULL,
    lead_owner_id INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, week_start, type_id, owner_id, lead_owner_id)
) WITHOUT ROWID;
-- A Sales_User's chart: the weeks of the activities on its own leads.
CREATE INDEX activity_weekly_counts_lead_owner
    ON activity_weekly_counts(tenant_id, lead_owner_id, week_start);

-- 259200000000 µs = 3 days: 1970-01-01 was a Thursday; 604800000000 µs = one week.
INSERT INTO activity_weekly_counts (tenant_id, week_start, type_id, owner_id, lead_owner_id, n)
SELECT tenant_id,
       occurred_at - (((occurred_at + 259200000000) % 604800000000) + 604800000000) % 604800000000,
       type_id, owner_id, coalesce(lead_owner_id, 0), count(*)
  FROM activities GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER activity_weekly_counts_insert AFTER INSERT ON activities
BEGIN
  INSERT INTO activity_weekly_counts (tenant_id, week_start, type_id, owner_id, lead_owner_id, n)
  VALUES (NEW.tenant_id,
          NEW.occurred_at - (((NEW.occurred_at + 259200000000) % 604800000000) + 604800000000) % 604800000000,
          NEW.type_id, NEW.owner_id, coalesce(NEW.lead_owner_id, 0), 1)
  ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER activity_weekly_counts_delete AFTER DELETE ON activities
BEGIN
  UPDATE activity_weekly_counts SET n = n - 1
   WHERE tenant_id = OLD.tenant_id
     AND week_start = OLD.occurred_at - (((OLD.occurred_at + 259200000000) % 604800000000) + 604800000000) % 604800000000
     AND type_id = OLD.type_id AND owner_id = OLD.owner_id
     AND lead_owner_id = coalesce(OLD.lead_owner_id, 0);
END;

CREATE TRIGGER activity_weekly_counts_update
 AFTER UPDATE OF occurred_at, type_id, owner_id, lead_owner_id, tenant_id ON activities
 WHEN NEW.occurred_at IS NOT OLD.occurred_at OR NEW.type_id IS NOT OLD.type_id
   OR NEW.owner_id IS NOT OLD.owner_id OR NEW.lead_owner_id IS NOT OLD.lead_owner_id
   OR NEW.tenant_id IS NOT OLD.tenant_id
BEGIN
  UPDATE activity_weekly_counts SET n = n - 1
   WHERE tenant_id = OLD.tenant_id
     AND week_start = OLD.occurred_at - (((OLD.occurred_at + 259200000000) % 604800000000) + 604800000000) % 604800000000
     AND type_id = OLD.type_id AND owner_id = OLD.owner_id
     AND lead_owner_id = coalesce(OLD.lead_owner_id, 0);
  INSERT INTO activity_weekly_counts (tenant_id, week_start, type_id, owner_id, lead_owner_id, n)
  VALUES (NEW.tenant_id,
          NEW.occurred_at - (((NEW.occurred_at + 259200000000) % 604800000000) + 604800000000) % 604800000000,
          NEW.type_id, NEW.owner_id, coalesce(NEW.lead_owner_id, 0), 1)
  ON CONFLICT DO UPDATE SET n = n + 1;
END;
