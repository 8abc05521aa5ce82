-- Idempotency-Key records (src/api/idempotency.rs): per tenant, the request a key was first used
-- with (its SHA-256 fingerprint) and, once answered, the answer a retry gets back. `owner` is the
-- random token of the request holding the claim; `status` is NULL while that request runs.
CREATE TABLE idempotency_keys (
    tenant_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    owner INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL,
    status INTEGER,
    content_type TEXT,
    body BLOB,
    PRIMARY KEY (tenant_id, key)
);

-- The pruner deletes expired records of every tenant in bounded batches, oldest first.
CREATE INDEX idempotency_keys_claimed ON idempotency_keys (claimed_at);
