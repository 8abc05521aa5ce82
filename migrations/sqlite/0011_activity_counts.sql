-- Exact activity counts that do not grow with the store: one row per tenant and combination of
-- the columns the common list filters test (event code, Salesloft type, resource kind, owner, the
-- lead's owner, pinned), kept by triggers in the transaction of every insert, delete and update of
-- those columns (a lead's owner change reaches it through leads_owner_restamp's UPDATE). A count
-- of one of those shapes sums the tenant's combinations (src/store/sql.rs `count_sql`) instead of
-- reading every matching index entry. `lead_owner_id` 0 is an activity without a lead (no user
-- has id 0). A row whose count fell to 0 stays: the rows are bounded by the combinations seen.
CREATE TABLE activity_counts (
    tenant_id      INTEGER NOT NULL,
    event_code     INTEGER NOT NULL,
    sl_type        TEXT    NOT NULL,
    res_kind       TEXT    NOT NULL,
    owner_id       INTEGER NOT NULL,
    lead_owner_id  INTEGER NOT NULL,
    pinned         INTEGER NOT NULL,
    n              INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned)
) WITHOUT ROWID;

INSERT INTO activity_counts
SELECT tenant_id, event_code, sl_type, res_kind, owner_id, coalesce(lead_owner_id, 0),
       pinned_at IS NOT NULL, count(*)
  FROM activities
 GROUP BY 1, 2, 3, 4, 5, 6, 7;

CREATE TRIGGER activity_counts_insert AFTER INSERT ON activities
BEGIN
  INSERT INTO activity_counts (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned, n)
  VALUES (NEW.tenant_id, NEW.event_code, NEW.sl_type, NEW.res_kind, NEW.owner_id,
          coalesce(NEW.lead_owner_id, 0), NEW.pinned_at IS NOT NULL, 1)
  ON CONFLICT (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned)
  DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER activity_counts_delete AFTER DELETE ON activities
BEGIN
  UPDATE activity_counts SET n = n - 1
   WHERE tenant_id = OLD.tenant_id AND event_code = OLD.event_code AND sl_type = OLD.sl_type
     AND res_kind = OLD.res_kind AND owner_id = OLD.owner_id
     AND lead_owner_id = coalesce(OLD.lead_owner_id, 0) AND pinned = (OLD.pinned_at IS NOT NULL);
END;

CREATE TRIGGER activity_counts_update
AFTER UPDATE OF tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned_at ON activities
 WHEN NEW.tenant_id IS NOT OLD.tenant_id OR NEW.event_code IS NOT OLD.event_code
   OR NEW.sl_type IS NOT OLD.sl_type OR NEW.res_kind IS NOT OLD.res_kind
   OR NEW.owner_id IS NOT OLD.owner_id OR NEW.lead_owner_id IS NOT OLD.lead_owner_id
   OR (NEW.pinned_at IS NULL) IS NOT (OLD.pinned_at IS NULL)
BEGIN
  UPDATE activity_counts SET n = n - 1
   WHERE tenant_id = OLD.tenant_id AND event_code = OLD.event_code AND sl_type = OLD.sl_type
     AND res_kind = OLD.res_kind AND owner_id = OLD.owner_id
     AND lead_owner_id = coalesce(OLD.lead_owner_id, 0) AND pinned = (OLD.pinned_at IS NOT NULL);
  INSERT INTO activity_counts (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned, n)
  VALUES (NEW.tenant_id, NEW.event_code, NEW.sl_type, NEW.res_kind, NEW.owner_id,
          coalesce(NEW.lead_owner_id, 0), NEW.pinned_at IS NOT NULL, 1)
  ON CONFLICT (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned)
  DO UPDATE SET n = n + 1;
END;
