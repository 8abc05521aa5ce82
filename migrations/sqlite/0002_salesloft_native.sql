-- Salesloft dialect and native API: accounts, soft-deleted leads, account activities (nullable
-- lead_id), and the Salesloft type and resource of each activity copied onto it so that every
-- activity_histories filter is served by an index.
--
-- PostgreSQL mirror: CREATE TABLE accounts as below; ALTER TABLE leads ADD COLUMN deleted_at;
-- the lead unique indexes become partial (deleted_at IS NULL); ALTER TABLE activities ALTER
-- lead_id DROP NOT NULL, ADD account_id/sl_type/res_kind/res_id (backfilled as in the INSERT below),
-- and the same indexes. SQLite cannot drop a NOT NULL, hence the table rebuild here.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    guid        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    name_lc     TEXT    NOT NULL,
    domain      TEXT,
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX accounts_tenant_guid ON accounts(tenant_id, guid);
CREATE UNIQUE INDEX accounts_tenant_name ON accounts(tenant_id, name_lc);

-- A deleted lead keeps its row (its activities still point at it and show it as a failed
-- dynamic resource); its email/phone/mobile become free again.
ALTER TABLE leads ADD COLUMN deleted_at INTEGER;
DROP INDEX leads_tenant_email;
DROP INDEX leads_tenant_phone;
DROP INDEX leads_tenant_mobile;
CREATE UNIQUE INDEX leads_tenant_email  ON leads(tenant_id, email_lc) WHERE email_lc IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX leads_tenant_phone  ON leads(tenant_id, phone)    WHERE phone IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX leads_tenant_mobile ON leads(tenant_id, mobile)   WHERE mobile IS NOT NULL AND deleted_at IS NULL;

-- The FK of opportunity_id names activities_new so that the rename below carries it over.
CREATE TABLE activities_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    guid            TEXT    NOT NULL,
    type_id         INTEGER NOT NULL REFERENCES activity_types(id),
    event_code      INTEGER NOT NULL,
    -- NULL for an activity on an account.
    lead_id         INTEGER REFERENCES leads(id),
    account_id      INTEGER REFERENCES accounts(id),
    opportunity_id  INTEGER REFERENCES activities_new(id),
    owner_id        INTEGER NOT NULL REFERENCES users(id),
    created_by      INTEGER NOT NULL REFERENCES users(id),
    modified_by     INTEGER NOT NULL REFERENCES users(id),
    note            TEXT    NOT NULL DEFAULT '',
    occurred_at     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    score           INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT 'Active',
    fields          TEXT    NOT NULL DEFAULT '{}',
    pinned_at       INTEGER,
    tags            TEXT    NOT NULL DEFAULT '[]',
    static_data     TEXT    NOT NULL DEFAULT '{}',
    -- Copied from the type (kept in step when the type's Salesloft type changes): the `type` filter.
    -- No default on purpose: an INSERT that forgets these fails instead of storing wrong data.
    sl_type         TEXT    NOT NULL,
    -- The Salesloft resource: 'person' (res_id = lead id), 'account' (account id) or
    -- 'crm_opportunity' (id of the opportunity's own activity row; an opportunity row is its own
    -- resource).
    res_kind        TEXT    NOT NULL,
    res_id          INTEGER NOT NULL
);

INSERT INTO activities_new (id, tenant_id, guid, type_id, event_code, lead_id, account_id, opportunity_id,
    owner_id, created_by, modified_by, note, occurred_at, created_at, updated_at, score, status, fields,
    pinned_at, tags, static_data, sl_type, res_kind, res_id)
SELECT a.id, a.tenant_id, a.guid, a.type_id, a.event_code, a.lead_id, NULL, a.opportunity_id,
    a.owner_id, a.created_by, a.modified_by, a.note, a.occurred_at, a.created_at, a.updated_at, a.score,
    a.status, a.fields, a.pinned_at, a.tags, a.static_data, t.salesloft_type,
    CASE WHEN t.kind = 'opportunity' OR a.opportunity_id IS NOT NULL THEN 'crm_opportunity' ELSE 'person' END,
    CASE WHEN t.kind = 'opportunity' THEN a.id WHEN a.opportunity_id IS NOT NULL THEN a.opportunity_id ELSE a.lead_id END
  FROM activities a JOIN activity_types t ON t.id = a.type_id;

DROP TABLE activities;
ALTER TABLE activities_new RENAME TO activities;

CREATE UNIQUE INDEX activities_guid          ON activities(tenant_id, guid);
CREATE UNIQUE INDEX activities_updated       ON activities(tenant_id, updated_at);
CREATE INDEX        activities_occurred      ON activities(tenant_id, occurred_at, id);
CREATE INDEX        activities_lead_occurred ON activities(tenant_id, lead_id, occurred_at, id);
CREATE INDEX        activities_lead_event    ON activities(tenant_id, lead_id, event_code, occurred_at, id);
CREATE INDEX        activities_lead_updated  ON activities(tenant_id, lead_id, updated_at, id);
CREATE INDEX        activities_opportunity   ON activities(tenant_id, opportunity_id, occurred_at, id)
    WHERE opportunity_id IS NOT NULL;
-- Salesloft filters: type, resource, owner (user_guid), pinned; each in both sort orders.
CREATE INDEX        activities_sl_occurred   ON activities(tenant_id, sl_type, occurred_at, id);
CREATE INDEX        activities_sl_updated    ON activities(tenant_id, sl_type, updated_at);
CREATE INDEX        activities_res_occurred  ON activities(tenant_id, res_kind, res_id, occurred_at, id);
CREATE INDEX        activities_res_updated   ON activities(tenant_id, res_kind, res_id, updated_at);
CREATE INDEX        activities_owner_occurred ON activities(tenant_id, owner_id, occurred_at, id);
CREATE INDEX        activities_owner_updated ON activities(tenant_id, owner_id, updated_at);
CREATE INDEX        activities_pinned        ON activities(tenant_id, pinned_at) WHERE pinned_at IS NOT NULL;
