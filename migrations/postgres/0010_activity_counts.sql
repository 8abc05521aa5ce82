-- Mirrors migrations/sqlite/0011_activity_counts.sql: exact activity counts per tenant and
-- combination of the columns the common list filters test, kept in the transaction of every
-- write by statement-level triggers (one grouped upsert per statement, so a bulk insert, a COPY
-- or a lead's owner change touches each combination once). `slot` spreads one combination over
-- 16 rows by backend: concurrent writers of one tenant on different connections update different
-- rows instead of queueing on one row lock until each other's commit; a count sums the slots (a
-- slot may hold a negative delta, the sum is exact). Rows are upserted in key order, so two
-- statements never take the same rows' locks in opposite orders.
CREATE TABLE activity_counts (
    tenant_id      bigint  NOT NULL,
    event_code     bigint  NOT NULL,
    sl_type        text    NOT NULL,
    res_kind       text    NOT NULL,
    owner_id       bigint  NOT NULL,
    lead_owner_id  bigint  NOT NULL,
    pinned         integer NOT NULL,
    slot           integer NOT NULL,
    n              bigint  NOT NULL,
    PRIMARY KEY (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned, slot)
);

INSERT INTO activity_counts
SELECT tenant_id, event_code, sl_type, res_kind, owner_id, coalesce(lead_owner_id, 0),
       (pinned_at IS NOT NULL)::int, 0, count(*)
  FROM activities
 GROUP BY 1, 2, 3, 4, 5, 6, 7;

CREATE FUNCTION activity_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO activity_counts AS c
  SELECT tenant_id, event_code, sl_type, res_kind, owner_id, coalesce(lead_owner_id, 0),
         (pinned_at IS NOT NULL)::int, pg_backend_pid() % 16, count(*)
    FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned, slot)
  DO UPDATE SET n = c.n + EXCLUDED.n;
  RETURN NULL;
END $$;
CREATE TRIGGER activity_counts_insert AFTER INSERT ON activities
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION activity_counts_insert();

CREATE FUNCTION activity_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO activity_counts AS c
  SELECT tenant_id, event_code, sl_type, res_kind, owner_id, coalesce(lead_owner_id, 0),
         (pinned_at IS NOT NULL)::int, pg_backend_pid() % 16, -count(*)
    FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned, slot)
  DO UPDATE SET n = c.n + EXCLUDED.n;
  RETURN NULL;
END $$;
CREATE TRIGGER activity_counts_delete AFTER DELETE ON activities
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION activity_counts_delete();

-- Every UPDATE statement (transition tables allow no column list): the rows whose counted
-- columns did not change cancel out and write nothing.
CREATE FUNCTION activity_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO activity_counts AS c
  SELECT tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned,
         pg_backend_pid() % 16, sum(d)
    FROM (SELECT tenant_id, event_code, sl_type, res_kind, owner_id,
                 coalesce(lead_owner_id, 0) AS lead_owner_id, (pinned_at IS NOT NULL)::int AS pinned,
                 1 AS d
            FROM new_rows
          UNION ALL
          SELECT tenant_id, event_code, sl_type, res_kind, owner_id,
                 coalesce(lead_owner_id, 0), (pinned_at IS NOT NULL)::int, -1
            FROM old_rows) moved
   GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (tenant_id, event_code, sl_type, res_kind, owner_id, lead_owner_id, pinned, slot)
  DO UPDATE SET n = c.n + EXCLUDED.n;
  RETURN NULL;
END $$;
CREATE TRIGGER activity_counts_update AFTER UPDATE ON activities
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION activity_counts_update();
