//! Rolling-window rate budgets shared by every server process on one database.

use std::time::Duration;

use async_trait::async_trait;

use super::rows::{execute, get, map_err, query, query_one};
use super::PgStore;
use crate::domain::rate::{decide, Decision};
use crate::error::Result;
use crate::store::SharedBudgets;

#[async_trait]
impl SharedBudgets for PgStore {
    async fn spend(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        cost: u64,
    ) -> std::result::Result<Decision, String> {
        spend_rate_budget(self, key, limit, window, cost)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Spends from the budget `key` in one transaction: rows of `rate_spends` are the window's spends.
async fn spend_rate_budget(
    store: &PgStore,
    key: &str,
    limit: u64,
    window: Duration,
    cost: u64,
) -> Result<Decision> {
    let window_us = window.as_micros().min(i64::MAX as u128) as i64;
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    // The advisory lock serialises spenders of one key across processes; the database's
    // clock is the one clock all processes agree on.
    let row = query_one(
        &tx,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0)),
                (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
        &[&key],
    )
    .await?;
    let now_us: i64 = get(&row, 1)?;
    execute(
        &tx,
        "DELETE FROM rate_spends WHERE key = $1 AND at_us <= $2",
        &[&key, &(now_us - window_us)],
    )
    .await?;
    let spent = query(
        &tx,
        "SELECT at_us, cost FROM rate_spends WHERE key = $1 ORDER BY at_us",
        &[&key],
    )
    .await?
    .iter()
    .map(|r| Ok((get::<i64>(r, 0)?, get::<i64>(r, 1)?.max(0) as u64)))
    .collect::<Result<Vec<_>>>()?;
    let decision = decide(&spent, now_us, window_us, limit, cost);
    if decision.allowed {
        execute(
            &tx,
            "INSERT INTO rate_spends (key, at_us, cost) VALUES ($1, $2, $3)",
            &[&key, &now_us, &(cost.min(i64::MAX as u64) as i64)],
        )
        .await?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(decision)
}
