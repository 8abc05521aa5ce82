-- Mirrors migrations/sqlite/0016_salesloft_webhooks.sql: Salesloft's webhook subscriptions are
-- rows of `webhooks` beside the native ones (same outbox, dispatcher and per-tenant cap).

ALTER TABLE webhooks ADD COLUMN sl_event_type text;
ALTER TABLE webhooks ADD COLUMN enabled boolean NOT NULL DEFAULT true;
ALTER TABLE webhooks ADD COLUMN user_guid uuid;
