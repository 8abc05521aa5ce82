-- Mirrors migrations/sqlite/0008_directory_clock.sql: a person's, account's and user's updated_at
-- is unique within its tenant and taken from the tenant's clock, so Salesloft's cursor walk over
-- people, accounts and users neither skips nor repeats a record; users get an updated_at. Ties
-- stored before keep their first row (by id); the others move past the tenant's clock.

UPDATE tenants t SET clock = GREATEST(t.clock,
    coalesce((SELECT max(updated_at) FROM leads WHERE tenant_id = t.id), 0),
    coalesce((SELECT max(updated_at) FROM accounts WHERE tenant_id = t.id), 0),
    coalesce((SELECT max(created_at) FROM users WHERE tenant_id = t.id), 0));

CREATE TEMP TABLE restamp (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, n bigint NOT NULL) ON COMMIT DROP;

INSERT INTO restamp (id, tenant_id, n)
SELECT id, tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY updated_at, id)
  FROM (SELECT id, tenant_id, updated_at,
               lag(updated_at) OVER (PARTITION BY tenant_id ORDER BY updated_at, id) AS prev
          FROM leads WHERE deleted_at IS NULL) s
 WHERE prev = updated_at;
UPDATE leads l SET updated_at = t.clock + r.n FROM restamp r, tenants t
 WHERE r.id = l.id AND t.id = l.tenant_id;
UPDATE tenants t SET clock = t.clock + m.n
  FROM (SELECT tenant_id, max(n) AS n FROM restamp GROUP BY tenant_id) m WHERE m.tenant_id = t.id;
TRUNCATE restamp;

INSERT INTO restamp (id, tenant_id, n)
SELECT id, tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY updated_at, id)
  FROM (SELECT id, tenant_id, updated_at,
               lag(updated_at) OVER (PARTITION BY tenant_id ORDER BY updated_at, id) AS prev
          FROM accounts) s
 WHERE prev = updated_at;
UPDATE accounts a SET updated_at = t.clock + r.n FROM restamp r, tenants t
 WHERE r.id = a.id AND t.id = a.tenant_id;
UPDATE tenants t SET clock = t.clock + m.n
  FROM (SELECT tenant_id, max(n) AS n FROM restamp GROUP BY tenant_id) m WHERE m.tenant_id = t.id;
TRUNCATE restamp;

ALTER TABLE users ADD COLUMN updated_at bigint NOT NULL DEFAULT 0;
UPDATE users SET updated_at = created_at;
INSERT INTO restamp (id, tenant_id, n)
SELECT id, tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY updated_at, id)
  FROM (SELECT id, tenant_id, updated_at,
               lag(updated_at) OVER (PARTITION BY tenant_id ORDER BY updated_at, id) AS prev
          FROM users) s
 WHERE prev = updated_at;
UPDATE users u SET updated_at = t.clock + r.n FROM restamp r, tenants t
 WHERE r.id = u.id AND t.id = u.tenant_id;
UPDATE tenants t SET clock = t.clock + m.n
  FROM (SELECT tenant_id, max(n) AS n FROM restamp GROUP BY tenant_id) m WHERE m.tenant_id = t.id;
DROP TABLE restamp;

CREATE UNIQUE INDEX leads_live_updated       ON leads(tenant_id, updated_at) WHERE deleted_at IS NULL;
CREATE INDEX        leads_live_created       ON leads(tenant_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX        leads_live_owner_updated ON leads(tenant_id, owner_id, updated_at) WHERE deleted_at IS NULL;
CREATE INDEX        leads_live_owner_created ON leads(tenant_id, owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX accounts_tenant_updated  ON accounts(tenant_id, updated_at);
CREATE INDEX        accounts_tenant_created  ON accounts(tenant_id, created_at, id);
CREATE UNIQUE INDEX users_tenant_updated     ON users(tenant_id, updated_at);
CREATE INDEX        users_tenant_created     ON users(tenant_id, created_at, id);
CREATE INDEX        users_tenant_id          ON users(tenant_id, id);
-- Name and email sorts compare bytes on both backends (`store::directory`): indexed in that collation.
CREATE INDEX        accounts_tenant_name_c   ON accounts(tenant_id, (name_lc COLLATE "C"));
CREATE INDEX        users_tenant_email_c     ON users(tenant_id, (email_lc COLLATE "C"));
