-- Change history and the activity trash (docs/decisions.md, "Change history" and "Soft delete").
-- activity_changes: one row per update, delete or restore of an activity, written in the same
-- transaction as the change; pruned after the history retention. No foreign keys: a change
-- outlives the activity's purge until its own retention ends.
CREATE TABLE activity_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL,
    activity_id   INTEGER NOT NULL,
    activity_guid TEXT    NOT NULL,
    event_code    INTEGER NOT NULL,
    lead_id       INTEGER,
    changed_at    INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    api           TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    -- JSON objects of the changed values (NULL before a restore and after a delete).
    before        TEXT,
    after         TEXT
);
CREATE INDEX activity_changes_activity ON activity_changes(tenant_id, activity_id, id);
CREATE INDEX activity_changes_time     ON activity_changes(tenant_id, changed_at, id);

-- A deleted activity's whole row, moved here by the delete's transaction and back by a restore
-- (same id and guid); purged after the restore window. Same columns as `activities` (bar the
-- virtual check column) plus when and by whom it was deleted.
CREATE TABLE deleted_activities (
    id              INTEGER NOT NULL,
    tenant_id       INTEGER NOT NULL,
    guid            TEXT    NOT NULL,
    type_id         INTEGER NOT NULL,
    event_code      INTEGER NOT NULL,
    lead_id         INTEGER,
    account_id      INTEGER,
    opportunity_id  INTEGER,
    owner_id        INTEGER NOT NULL,
    created_by      INTEGER NOT NULL,
    modified_by     INTEGER NOT NULL,
    note            TEXT    NOT NULL,
    occurred_at     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    score           INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    fields          TEXT    NOT NULL,
    pinned_at       INTEGER,
    tags            TEXT    NOT NULL,
    static_data     TEXT    NOT NULL,
    sl_type         TEXT    NOT NULL,
    res_kind        TEXT    NOT NULL,
    res_id          INTEGER NOT NULL,
    lead_owner_id   INTEGER,
    deleted_at      INTEGER NOT NULL,
    deleted_by      INTEGER NOT NULL
);
CREATE UNIQUE INDEX deleted_activities_id      ON deleted_activities(tenant_id, id);
CREATE UNIQUE INDEX deleted_activities_guid    ON deleted_activities(tenant_id, guid);
CREATE INDEX        deleted_activities_deleted ON deleted_activities(tenant_id, deleted_at);
CREATE INDEX        deleted_activities_lead    ON deleted_activities(tenant_id, lead_id);
CREATE INDEX        leads_deleted              ON leads(tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
