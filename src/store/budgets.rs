//! Rate budgets shared by every server process: the trait a backend keeping them implements.

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::rate::Decision;

/// Rolling-window rate budgets kept where every server process sees them (the PostgreSQL store,
/// Redis). A store that keeps none (SQLite, served by one process) leaves them to the limiter's
/// memory.
#[async_trait]
pub trait SharedBudgets: Send + Sync + 'static {
    /// Spends `cost` from the budget `key` (at most `limit` per `window`) if the window has room
    /// for it, otherwise spends nothing; atomic across every process sharing these budgets. The
    /// error is only logged: a failing backend lets calls through.
    async fn spend(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        cost: u64,
    ) -> Result<Decision, String>;
}
