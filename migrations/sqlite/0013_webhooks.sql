-- Webhooks (src/events/): a tenant's subscriptions and the outbox of their deliveries. A write
-- that changes an activity or a lead inserts one delivery row per matching subscription in its
-- own transaction, so an acknowledged write never loses its event; the dispatcher sends each
-- subscription's pending deliveries one at a time in id (commit) order.

CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    guid          TEXT    NOT NULL UNIQUE,
    url           TEXT    NOT NULL,
    -- Bit set of the subscribed events (events::Event::bit).
    events        INTEGER NOT NULL,
    -- JSON array of activity event codes the activity events are limited to; NULL: all.
    event_codes   TEXT,
    -- Kept as issued: every delivery is signed with it (HMAC), so a digest would not do.
    secret        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Until when (µs) a dispatcher holds the subscription's head delivery; past it another may.
    lease_until   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, id);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
    webhook_id       INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    guid             TEXT    NOT NULL,
    event            TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    -- pending | delivered | failed
    state            TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    first_attempt_at INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
-- The delivery log of a subscription, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (tenant_id, webhook_id, id);
-- Each subscription's queue: its head is the first pending row.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, id) WHERE state = 'pending';
