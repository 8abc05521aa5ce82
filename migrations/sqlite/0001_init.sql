-- activity-hub schema, SQLite. Every table and index leads with tenant_id (isolation is structural
-- and the layout can be distributed by tenant later). Times are microseconds since the Unix epoch.

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guid        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    -- The tenant's logical clock: the last created_at/updated_at handed out. Writes take
    -- max(clock + n, now) so that activity timestamps are unique and strictly increasing.
    clock       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id          INTEGER NOT NULL REFERENCES tenants(id),
    guid               TEXT    NOT NULL,
    email              TEXT    NOT NULL,
    email_lc           TEXT    NOT NULL,
    first_name         TEXT    NOT NULL DEFAULT '',
    last_name          TEXT    NOT NULL DEFAULT '',
    role               TEXT    NOT NULL,
    active             INTEGER NOT NULL DEFAULT 1,
    access_key_digest  BLOB    NOT NULL,
    secret_key_digest  BLOB    NOT NULL,
    api_key_digest     BLOB    NOT NULL,
    created_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_tenant_guid  ON users(tenant_id, guid);
CREATE UNIQUE INDEX users_tenant_email ON users(tenant_id, email_lc);
-- Credentials are looked up before the tenant is known, hence the two global indexes.
CREATE UNIQUE INDEX users_access_key   ON users(access_key_digest);
CREATE UNIQUE INDEX users_api_key      ON users(api_key_digest);

CREATE TABLE leads (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
    guid              TEXT    NOT NULL,
    first_name        TEXT,
    last_name         TEXT,
    email             TEXT,
    email_lc          TEXT,
    phone             TEXT,
    mobile            TEXT,
    do_not_call       INTEGER NOT NULL DEFAULT 0,
    do_not_email      INTEGER NOT NULL DEFAULT 0,
    owner_id          INTEGER NOT NULL REFERENCES users(id),
    score             INTEGER NOT NULL DEFAULT 0,
    engagement_score  INTEGER NOT NULL DEFAULT 0,
    attributes        TEXT    NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX leads_tenant_guid   ON leads(tenant_id, guid);
CREATE UNIQUE INDEX leads_tenant_email  ON leads(tenant_id, email_lc) WHERE email_lc IS NOT NULL;
CREATE UNIQUE INDEX leads_tenant_phone  ON leads(tenant_id, phone)    WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX leads_tenant_mobile ON leads(tenant_id, mobile)   WHERE mobile IS NOT NULL;
CREATE INDEX        leads_tenant_owner  ON leads(tenant_id, owner_id, id);

CREATE TABLE activity_types (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    guid            TEXT    NOT NULL,
    event_code      INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    name_lc         TEXT    NOT NULL,
    display_name    TEXT    NOT NULL,
    score           INTEGER NOT NULL DEFAULT 0,
    description     TEXT    NOT NULL DEFAULT '',
    direction       INTEGER NOT NULL DEFAULT 0,
    kind            TEXT    NOT NULL,
    is_email_type   INTEGER NOT NULL DEFAULT 0,
    salesloft_type  TEXT    NOT NULL,
    fields          TEXT    NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX activity_types_code ON activity_types(tenant_id, event_code);
CREATE UNIQUE INDEX activity_types_name ON activity_types(tenant_id, name_lc);
CREATE UNIQUE INDEX activity_types_guid ON activity_types(tenant_id, guid);

CREATE TABLE activities (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    guid            TEXT    NOT NULL,
    type_id         INTEGER NOT NULL REFERENCES activity_types(id),
    -- Copied from the type so that event-code filters are served by an index.
    event_code      INTEGER NOT NULL,
    lead_id         INTEGER NOT NULL REFERENCES leads(id),
    -- The opportunity (itself an activity of an opportunity type) this activity is logged on.
    opportunity_id  INTEGER REFERENCES activities(id),
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
    static_data     TEXT    NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX activities_guid          ON activities(tenant_id, guid);
CREATE UNIQUE INDEX activities_updated       ON activities(tenant_id, updated_at);
CREATE INDEX        activities_occurred      ON activities(tenant_id, occurred_at, id);
CREATE INDEX        activities_lead_occurred ON activities(tenant_id, lead_id, occurred_at, id);
CREATE INDEX        activities_lead_event    ON activities(tenant_id, lead_id, event_code, occurred_at, id);
CREATE INDEX        activities_lead_updated  ON activities(tenant_id, lead_id, updated_at, id);
CREATE INDEX        activities_opportunity   ON activities(tenant_id, opportunity_id, occurred_at, id)
    WHERE opportunity_id IS NOT NULL;
