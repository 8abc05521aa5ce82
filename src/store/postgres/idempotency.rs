//! The PostgreSQL side of `Idempotency-Key` records. A claim is one `INSERT … ON CONFLICT`
//! statement, so that processes sharing the database never both win a key.

use super::rows::{execute, get, query_opt};
use super::PgStore;
use crate::error::{Error, Result};
use crate::store::{KeyClaim, KeyRecord, KeyState, StoredAnswer};

const LIVE: &str = "SELECT fingerprint, status, content_type, body FROM idempotency_keys
     WHERE tenant_id = $1 AND key = $2 AND claimed_at >= $3
       AND (status IS NOT NULL OR claimed_at >= $4)";

fn record_of(row: &tokio_postgres::Row) -> Result<KeyRecord> {
    let status: Option<i32> = get(row, 1)?;
    Ok(KeyRecord {
        fingerprint: get(row, 0)?,
        answer: match status {
            None => None,
            Some(s) => Some(StoredAnswer {
                status: u16::try_from(s).unwrap_or(500),
                content_type: get(row, 2)?,
                body: get(row, 3)?,
            }),
        },
    })
}

pub(super) async fn claim(store: &PgStore, tenant_id: i64, claim: &KeyClaim) -> Result<KeyState> {
    let c = store.client().await?;
    // A claim that loses to a record pruned or let go in between finds nothing; it tries again.
    for _ in 0..3 {
        let changed = execute(
            &c,
            "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, owner, claimed_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, key) DO UPDATE
                SET fingerprint = excluded.fingerprint, owner = excluded.owner,
                    claimed_at = excluded.claimed_at, status = NULL,
                    content_type = NULL, body = NULL
              WHERE idempotency_keys.claimed_at < $6
                 OR (idempotency_keys.status IS NULL AND idempotency_keys.claimed_at < $7)",
            &[
                &tenant_id,
                &claim.key,
                &claim.fingerprint,
                &claim.owner,
                &claim.now,
                &claim.expired_before,
                &claim.abandoned_before,
            ],
        )
        .await?;
        if changed == 1 {
            return Ok(KeyState::Claimed);
        }
        let found = query_opt(
            &c,
            LIVE,
            &[
                &tenant_id,
                &claim.key,
                &claim.expired_before,
                &claim.abandoned_before,
            ],
        )
        .await?;
        if let Some(row) = found {
            return Ok(KeyState::Taken(record_of(&row)?));
        }
    }
    Err(Error::Unavailable(
        "an idempotency key changed hands repeatedly; try again".into(),
    ))
}

pub(super) async fn record(
    store: &PgStore,
    tenant_id: i64,
    key: &str,
    expired_before: i64,
    abandoned_before: i64,
) -> Result<Option<KeyRecord>> {
    let c = store.client().await?;
    let key = key.to_string();
    query_opt(
        &c,
        LIVE,
        &[&tenant_id, &key, &expired_before, &abandoned_before],
    )
    .await?
    .map(|row| record_of(&row))
    .transpose()
}

pub(super) async fn finish(
    store: &PgStore,
    tenant_id: i64,
    key: &str,
    owner: i64,
    answer: Option<StoredAnswer>,
) -> Result<()> {
    let c = store.client().await?;
    let key = key.to_string();
    match answer {
        Some(a) => {
            execute(
                &c,
                "UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6
                  WHERE tenant_id = $1 AND key = $2 AND owner = $3 AND status IS NULL",
                &[
                    &tenant_id,
                    &key,
                    &owner,
                    &i32::from(a.status),
                    &a.content_type,
                    &a.body,
                ],
            )
            .await?
        }
        None => {
            execute(
                &c,
                "DELETE FROM idempotency_keys
                  WHERE tenant_id = $1 AND key = $2 AND owner = $3 AND status IS NULL",
                &[&tenant_id, &key, &owner],
            )
            .await?
        }
    };
    Ok(())
}

pub(super) async fn prune(store: &PgStore, claimed_before: i64, limit: u32) -> Result<u64> {
    let c = store.client().await?;
    execute(
        &c,
        "DELETE FROM idempotency_keys WHERE (tenant_id, key) IN
           (SELECT tenant_id, key FROM idempotency_keys WHERE claimed_at < $1
             ORDER BY claimed_at LIMIT $2)",
        &[&claimed_before, &i64::from(limit)],
    )
    .await
}
