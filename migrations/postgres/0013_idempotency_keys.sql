-- Mirrors migrations/sqlite/0014_idempotency_keys.sql: Idempotency-Key records
-- (src/api/idempotency.rs), per tenant, with the request's fingerprint and, once answered, the
-- answer a retry gets back. `owner` is the random token of the request holding the claim;
-- `status` is NULL while that request runs.
CREATE TABLE idempotency_keys (
    tenant_id bigint NOT NULL,
    key text NOT NULL,
    fingerprint bytea NOT NULL,
    owner bigint NOT NULL,
    claimed_at bigint NOT NULL,
    status integer,
    content_type text,
    body bytea,
    PRIMARY KEY (tenant_id, key)
);

-- The pruner deletes expired records of every tenant in bounded batches, oldest first.
CREATE INDEX idempotency_keys_claimed ON idempotency_keys (claimed_at);
