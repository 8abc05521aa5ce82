-- Salesloft's people, accounts and users lists (src/api/salesloft/people.rs) and their cursor walk
-- (`updated_at[gt]` sorted by updated_at ascending): a person's, account's and user's updated_at
-- is unique within its tenant and taken from the tenant's clock, as activities' are, so a walk that
-- sends back the last updated_at it saw neither skips nor repeats a record. Users get an
-- updated_at (their created_at until now). Rows stored before this migration that share one
-- updated_at keep the first of each tie (by id); the others are moved past the tenant's clock,
-- which then moves past them. The indexes serve each list's filters and sort keys in order.

-- The clock first moves past every stamp a lead, account or user already has (these were taken
-- from the wall clock, not from the tenant's clock).
UPDATE tenants SET clock = max(clock,
    coalesce((SELECT max(updated_at) FROM leads WHERE tenant_id = tenants.id), 0),
    coalesce((SELECT max(updated_at) FROM accounts WHERE tenant_id = tenants.id), 0),
    coalesce((SELECT max(created_at) FROM users WHERE tenant_id = tenants.id), 0));

CREATE TEMP TABLE restamp (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, n INTEGER NOT NULL);

-- Live leads (a deleted lead is listed nowhere and keeps its stamp).
INSERT INTO restamp (id, tenant_id, n)
SELECT id, tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY updated_at, id)
  FROM (SELECT id, tenant_id, updated_at,
               lag(updated_at) OVER (PARTITION BY tenant_id ORDER BY updated_at, id) AS prev
          FROM leads WHERE deleted_at IS NULL)
 WHERE prev = updated_at;
UPDATE leads SET updated_at = (SELECT t.clock FROM tenants t WHERE t.id = leads.tenant_id)
                              + (SELECT r.n FROM restamp r WHERE r.id = leads.id)
 WHERE id IN (SELECT id FROM restamp);
UPDATE tenants SET clock = clock + coalesce((SELECT max(n) FROM restamp r WHERE r.tenant_id = tenants.id), 0);
DELETE FROM restamp;

INSERT INTO restamp (id, tenant_id, n)
SELECT id, tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY updated_at, id)
  FROM (SELECT id, tenant_id, updated_at,
               lag(updated_at) OVER (PARTITION BY tenant_id ORDER BY updated_at, id) AS prev
          FROM accounts)
 WHERE prev = updated_at;
UPDATE accounts SET updated_at = (SELECT t.clock FROM tenants t WHERE t.id = accounts.tenant_id)
                                 + (SELECT r.n FROM restamp r WHERE r.id = accounts.id)
 WHERE id IN (SELECT id FROM restamp);
UPDATE tenants SET clock = clock + coalesce((SELECT max(n) FROM restamp r WHERE r.tenant_id = tenants.id), 0);
DELETE FROM restamp;

ALTER TABLE users ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE users SET updated_at = created_at;
INSERT INTO restamp (id, tenant_id, n)
SELECT id, tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY updated_at, id)
  FROM (SELECT id, tenant_id, updated_at,
               lag(updated_at) OVER (PARTITION BY tenant_id ORDER BY updated_at, id) AS prev
          FROM users)
 WHERE prev = updated_at;
UPDATE users SET updated_at = (SELECT t.clock FROM tenants t WHERE t.id = users.tenant_id)
                              + (SELECT r.n FROM restamp r WHERE r.id = users.id)
 WHERE id IN (SELECT id FROM restamp);
UPDATE tenants SET clock = clock + coalesce((SELECT max(n) FROM restamp r WHERE r.tenant_id = tenants.id), 0);
DROP TABLE restamp;

CREATE UNIQUE INDEX leads_live_updated       ON leads(tenant_id, updated_at) WHERE deleted_at IS NULL;
-- deleted_at (always NULL in them) ends the non-unique ones so that a count of live leads is
-- answered from the index alone: SQLite's planner does not see that a partial index's WHERE
-- already holds, and otherwise reads each row to test it (or scans the table).
CREATE INDEX        leads_live_created       ON leads(tenant_id, created_at, id, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX        leads_live_owner_updated ON leads(tenant_id, owner_id, updated_at, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX        leads_live_owner_created ON leads(tenant_id, owner_id, created_at, id, deleted_at) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX accounts_tenant_updated  ON accounts(tenant_id, updated_at);
CREATE INDEX        accounts_tenant_created  ON accounts(tenant_id, created_at, id);
CREATE UNIQUE INDEX users_tenant_updated     ON users(tenant_id, updated_at);
CREATE INDEX        users_tenant_created     ON users(tenant_id, created_at, id);
CREATE INDEX        users_tenant_id          ON users(tenant_id, id);
