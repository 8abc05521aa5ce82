-- Salesloft's webhook subscriptions (`/v2/webhook_subscriptions`) are rows of `webhooks` beside
-- the native ones, so they ride on the same outbox and dispatcher and count against the same
-- per-tenant cap. `url` holds the callback_url, `secret` the callback_token, `events` the bit
-- of the native event the Salesloft event type is made of.

-- The Salesloft event type (`call_created`, `person_updated`, …); NULL for a native subscription.
ALTER TABLE webhooks ADD COLUMN sl_event_type TEXT;
-- A disabled subscription is kept but gets no deliveries (Salesloft's `enabled`).
ALTER TABLE webhooks ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
-- The GUID of the user whose key made the subscription (Salesloft's `user_guid`).
ALTER TABLE webhooks ADD COLUMN user_guid TEXT;
