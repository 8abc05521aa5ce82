//! The SQLite side of `Idempotency-Key` records: claims and answers go through the writer thread
//! like every write; looking a record up is a read.

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::SqlResult;
use super::SqliteStore;
use crate::error::Result;
use crate::store::{KeyClaim, KeyRecord, KeyState, StoredAnswer};

/// The live record of `key`, as `Store::idempotency_key` defines it.
fn live(
    c: &Connection,
    tenant_id: i64,
    key: &str,
    expired_before: i64,
    abandoned_before: i64,
) -> Result<Option<KeyRecord>> {
    c.query_row(
        "SELECT fingerprint, status, content_type, body FROM idempotency_keys
          WHERE tenant_id = ?1 AND key = ?2 AND claimed_at >= ?3
            AND (status IS NOT NULL OR claimed_at >= ?4)",
        params![tenant_id, key, expired_before, abandoned_before],
        |r| {
            let status: Option<i64> = r.get(1)?;
            Ok(KeyRecord {
                fingerprint: r.get(0)?,
                answer: match status {
                    None => None,
                    Some(s) => Some(StoredAnswer {
                        status: u16::try_from(s).unwrap_or(500),
                        content_type: r.get(2)?,
                        body: r.get(3)?,
                    }),
                },
            })
        },
    )
    .optional()
    .db()
}

pub(super) async fn claim(
    store: &SqliteStore,
    tenant_id: i64,
    claim: &KeyClaim,
) -> Result<KeyState> {
    let claim = claim.clone();
    store
        .write(move |c| {
            // A new key is inserted; an expired or abandoned record is taken over in the same
            // statement, so two claims of one key never both win.
            let changed = c
                .execute(
                    "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, owner, claimed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (tenant_id, key) DO UPDATE
                        SET fingerprint = excluded.fingerprint, owner = excluded.owner,
                            claimed_at = excluded.claimed_at, status = NULL,
                            content_type = NULL, body = NULL
                      WHERE idempotency_keys.claimed_at < ?6
                         OR (idempotency_keys.status IS NULL AND idempotency_keys.claimed_at < ?7)",
                    params![
                        tenant_id,
                        claim.key,
                        claim.fingerprint,
                        claim.owner,
                        claim.now,
                        claim.expired_before,
                        claim.abandoned_before
                    ],
                )
                .db()?;
            if changed == 1 {
                return Ok(KeyState::Claimed);
            }
            // In the same transaction as the failed claim: the record that stopped it is there.
            match live(
                c,
                tenant_id,
                &claim.key,
                claim.expired_before,
                claim.abandoned_before,
            )? {
                Some(record) => Ok(KeyState::Taken(record)),
                None => Err(crate::error::Error::Internal(
                    "an idempotency key was neither claimed nor found".into(),
                )),
            }
        })
        .await
}

pub(super) async fn record(
    store: &SqliteStore,
    tenant_id: i64,
    key: &str,
    expired_before: i64,
    abandoned_before: i64,
) -> Result<Option<KeyRecord>> {
    let key = key.to_string();
    store
        .read(move |c| live(c, tenant_id, &key, expired_before, abandoned_before))
        .await
}

pub(super) async fn finish(
    store: &SqliteStore,
    tenant_id: i64,
    key: &str,
    owner: i64,
    answer: Option<StoredAnswer>,
) -> Result<()> {
    let key = key.to_string();
    store
        .write(move |c| {
            match &answer {
                Some(a) => c.execute(
                    "UPDATE idempotency_keys SET status = ?4, content_type = ?5, body = ?6
                      WHERE tenant_id = ?1 AND key = ?2 AND owner = ?3 AND status IS NULL",
                    params![tenant_id, key, owner, a.status, a.content_type, a.body],
                ),
                None => c.execute(
                    "DELETE FROM idempotency_keys
                      WHERE tenant_id = ?1 AND key = ?2 AND owner = ?3 AND status IS NULL",
                    params![tenant_id, key, owner],
                ),
            }
            .db()?;
            Ok(())
        })
        .await
}

pub(super) async fn prune(store: &SqliteStore, claimed_before: i64, limit: u32) -> Result<u64> {
    store
        .write(move |c| {
            let n = c
                .execute(
                    "DELETE FROM idempotency_keys WHERE rowid IN
                       (SELECT rowid FROM idempotency_keys WHERE claimed_at < ?1
                         ORDER BY claimed_at LIMIT ?2)",
                    params![claimed_before, limit],
                )
                .db()?;
            Ok(n as u64)
        })
        .await
}
