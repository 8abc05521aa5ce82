//! The PostgreSQL backend: a connection pool, one transaction per command (concurrent activity
//! inserts share one), multi-row statements for batches, and the same index-backed query shapes as
//! the SQLite backend.
//!
//! Several server processes may share one database. What SQLite gets from its single writer
//! thread, this backend gets from row locks: every write that hands out timestamps first advances
//! its tenant's clock (`UPDATE tenants … RETURNING clock`), which locks the tenant's row until
//! commit, so one tenant's writes commit in timestamp order, whichever process makes them.
//!
//! `connect` holds the pool settings, `migrate` the schema, `rows` the row mapping and statement
//! wrappers, `query` the activity list statements (built by `store::sql`), `pipeline` the
//! one-round-trip read snapshots, `writes` the batch inserts, the clock and the bodies of the
//! writing methods, `group_commit` the queue that commits concurrent activity inserts together,
//! `rate` the shared rate budgets (`SharedBudgets`); this file is the `Store` surface.

mod connect;
mod group_commit;
mod idempotency;
mod labels;
mod migrate;
mod outbox;
mod pipeline;
mod query;
mod rate;
mod rows;
mod trash;
mod writes;

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::NoTls;
use uuid::Uuid;

use super::{redact_url, Store, UserCredentials};
use crate::domain::directory::{DirectoryQuery, UserRecord};
use crate::domain::history::{
    ActivityChange, ActivityRef, Actor, ChangeQuery, PurgeBefore, TrashedActivity,
};
use crate::domain::Micros;
use crate::domain::{
    Account, ActivityQuery, ActivityType, ActivityUpdate, ActivityView, Lead, LeadKey, LeadPatch,
    LeadQuery, NewAccount, NewActivity, NewActivityType, NewLead, NewUser, Page, Tenant, User,
};
use crate::error::{Error, Result};
use crate::events::{Delivery, DueDelivery, Event, NewWebhook, Outcome, Webhook};
use connect::{describe, pool_err, POOL_SIZE, POOL_TIMEOUT, STATEMENT_CACHE_MAX};
use migrate::migrate;
pub use query::{activity_count_sql, activity_page_sql, directory_count_sql, directory_page_sql};

/// The statement `find_leads` runs for `q`, with its parameters (exposed for EXPLAIN in tests
/// and reports).
pub fn lead_page_sql(q: &LeadQuery) -> (String, Vec<i64>) {
    let (filter, values) = super::lead_query_sql(q, |n| format!("${n}"));
    (
        format!("SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id {filter}"),
        values,
    )
}
/// The statement of `search_leads` (parameters: tenant, owner or null, the key's prefix range,
/// the limit): the candidates of each searched column's index, the oldest `limit` of them.
/// Compared `COLLATE "C"`, as the search indexes are built, so that a prefix is one index range
/// whatever the database's collation.
pub fn quick_search_sql() -> String {
    let ids = super::quick_search_ids_sql(|n| format!("${n}"), "::bigint", " COLLATE \"C\"");
    format!(
        "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
          WHERE l.id IN ({ids}) ORDER BY l.id LIMIT $5"
    )
}
use rows::{
    account_row, activity_row, chain, get, lead_row, map_err, query, query_one, query_opt,
    query_users, type_row, ACCOUNT_SELECT, ACTIVITY_SELECT, LEAD_COLS, TYPE_COLS,
};
use writes::{insert_leads, insert_user};

pub struct PgStore {
    pool: Pool,
    /// Activity inserts go through it, to commit together (`group_commit`).
    inserts: group_commit::GroupCommit,
    /// The users and types activity rows name (`store::labels`), shared with the writes that
    /// render their rows for webhooks.
    labels: Arc<labels::PgLabels>,
}

impl PgStore {
    /// Counts and reads one page in one snapshot, as SQLite's read transaction gives: `count`
    /// (when the request asks for a total) and `page` are the statements of one list request.
    /// Both come from the connection's statement cache, and the snapshot is one round trip
    /// (`pipeline::snapshot_page`).
    async fn counted_page<T>(
        &self,
        count: Option<(String, rows::Params)>,
        page: (String, rows::Params),
        row: fn(&tokio_postgres::Row) -> Result<T>,
    ) -> Result<Page<T>> {
        let c = self.client().await?;
        counted_page_on(&c, count, page, row).await
    }

    /// `counted_page` of activities, labelled (`labels::label`) on the same connection.
    /// Its statements bind `tenant_id` as $1.
    async fn activity_page(
        &self,
        tenant_id: i64,
        count: Option<(String, rows::Params)>,
        page: (String, rows::Params),
    ) -> Result<Page<ActivityView>> {
        let seen = self.labels.generation();
        let c = self.client().await?;
        let page = counted_page_on(&c, count, page, activity_row).await?;
        Ok(Page {
            total: page.total,
            rows: self.labels.label(&c, tenant_id, page.rows, seen).await?,
        })
    }

    /// The activity of tenant $1 that `filter` picks: the row statement, run like a page (one
    /// flight, on its generic plan) instead of being planned for every call.
    async fn one_activity(
        &self,
        tenant_id: i64,
        filter: &str,
        args: rows::Params,
    ) -> Result<Option<ActivityView>> {
        let sql = format!("{ACTIVITY_SELECT} WHERE a.tenant_id = $1 AND {filter}");
        let page = self.activity_page(tenant_id, None, (sql, args)).await?;
        Ok(page.rows.into_iter().next())
    }

    /// A people, accounts or users page.
    async fn directory_page<T>(
        &self,
        q: &DirectoryQuery,
        row: fn(&tokio_postgres::Row) -> Result<T>,
    ) -> Result<Page<T>> {
        self.counted_page(directory_count_sql(q), directory_page_sql(q), row)
            .await
    }

    /// Connects (checking the database answers), then applies pending migrations.
    pub async fn open(url: &str) -> std::result::Result<PgStore, String> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| format!("invalid database URL {}: {}", redact_url(url), chain(&e)))?;
        let shown = describe(&config);
        let fail = |e: String| format!("cannot connect to {shown}: {e}");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("activity-hub");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection the server closed (restart, pg_terminate_backend) reports itself
                // closed and is dropped on checkout, so the pool heals without a probe query per
                // checkout. A call that meets a backend dying under it (the few ms between the
                // server's kill and our connection task reading it) fails once with
                // `Unavailable` (503), never 500; `Verified` would not close that race either,
                // only move it, at one extra round trip per call. tests/pg_failures.rs.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let mut client = pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => fail(chain(&e)),
            other => fail(chain(&other)),
        })?;
        migrate(&mut client)
            .await
            .map_err(|e| format!("migration of {shown} failed: {e}"))?;
        drop(client);
        let labels = Arc::new(labels::PgLabels::new());
        let inserts = group_commit::GroupCommit::start(pool.clone(), labels.clone());
        Ok(PgStore {
            pool,
            inserts,
            labels,
        })
    }

    /// A pooled connection. Its statement cache (deadpool's, one per connection, unbounded) holds
    /// every SQL text prepared on it; the list statements are built per filter combination, so the
    /// cache is emptied on checkout once it passes `STATEMENT_CACHE_MAX` (docs/decisions.md).
    async fn client(&self) -> Result<Object> {
        pooled(&self.pool).await
    }
}

/// `PgStore::counted_page` on the connection `c`.
async fn counted_page_on<T>(
    c: &Object,
    count: Option<(String, rows::Params)>,
    (page_sql, page_args): (String, rows::Params),
    row: fn(&tokio_postgres::Row) -> Result<T>,
) -> Result<Page<T>> {
    let count_stmt = match &count {
        Some((sql, _)) => Some(c.prepare_cached(sql).await.map_err(map_err)?),
        None => None,
    };
    let page_stmt = c.prepare_cached(&page_sql).await.map_err(map_err)?;
    let count = match (&count_stmt, &count) {
        (Some(stmt), Some((_, args))) => Some((stmt, args)),
        _ => None,
    };
    let (total, rows) = pipeline::snapshot_page(c, count, (&page_stmt, &page_args)).await?;
    let rows = rows.iter().map(row).collect::<Result<Vec<_>>>()?;
    Ok(Page {
        total: total as u64,
        rows,
    })
}

/// A connection from `pool`, its statement cache emptied once past `STATEMENT_CACHE_MAX`
/// (see `PgStore::client`).
async fn pooled(pool: &Pool) -> Result<Object> {
    let c = pool.get().await.map_err(pool_err)?;
    if c.statement_cache.size() > STATEMENT_CACHE_MAX {
        c.statement_cache.clear();
    }
    Ok(c)
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        // A pooled connection the server dropped fails once before the pool discards it; a
        // second try on a fresh connection tells whether the database itself is unreachable.
        //
        // Answering is not enough: a standby (after a failover) or a database set read-only
        // answers every read and refuses every write, so it is not ready either.
        for attempt in 0..2 {
            let c = self.client().await?;
            match c
                .query_one(
                    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
                    &[],
                )
                .await
            {
                Ok(row) => {
                    return match row.try_get::<_, bool>(0) {
                        Ok(false) => Ok(()),
                        Ok(true) => Err(Error::Unavailable(
                            "the database is read-only (a standby, or default_transaction_read_only is on)"
                                .into(),
                        )),
                        Err(e) => Err(map_err(e)),
                    }
                }
                Err(e) if attempt == 0 && e.is_closed() => continue,
                Err(e) => return Err(map_err(e)),
            }
        }
        Err(Error::Unavailable("the database does not answer".into()))
    }

    async fn create_tenant(
        &self,
        name: &str,
        admin: NewUser,
        types: Vec<NewActivityType>,
    ) -> Result<(Tenant, User)> {
        writes::create_tenant(self, name, admin, types).await
    }

    async fn tenant_by_guid(&self, guid: Uuid) -> Result<Option<Tenant>> {
        let c = self.client().await?;
        query_opt(
            &c,
            "SELECT id, guid, name FROM tenants WHERE guid = $1",
            &[&guid],
        )
        .await?
        .map(|r| {
            Ok(Tenant {
                id: get(&r, 0)?,
                guid: get(&r, 1)?,
                name: get(&r, 2)?,
            })
        })
        .transpose()
    }

    async fn count_tenants(&self) -> Result<u64> {
        let c = self.client().await?;
        let row = query_one(&c, "SELECT count(*) FROM tenants", &[]).await?;
        Ok(get::<i64>(&row, 0)? as u64)
    }

    async fn create_user(&self, tenant_id: i64, user: NewUser) -> Result<User> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let id = insert_user(&tx, tenant_id, &user).await?;
        tx.commit().await.map_err(map_err)?;
        query_users(&c, "u.id = $1", &[&id])
            .await?
            .pop()
            .map(|u| u.user)
            .ok_or_else(|| Error::Internal("created user vanished".into()))
    }

    async fn user_by_access_key(&self, digest: &[u8; 32]) -> Result<Option<UserCredentials>> {
        let c = self.client().await?;
        Ok(query_users(&c, "u.access_key_digest = $1", &[&&digest[..]])
            .await?
            .pop())
    }

    async fn user_by_api_key(&self, digest: &[u8; 32]) -> Result<Option<User>> {
        let c = self.client().await?;
        Ok(query_users(&c, "u.api_key_digest = $1", &[&&digest[..]])
            .await?
            .pop()
            .map(|u| u.user))
    }

    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>> {
        let c = self.client().await?;
        Ok(query_users(&c, "u.tenant_id = $1", &[&tenant_id])
            .await?
            .into_iter()
            .map(|u| u.user)
            .collect())
    }

    async fn user_by_email(&self, tenant_id: i64, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        let c = self.client().await?;
        Ok(query_users(
            &c,
            "u.tenant_id = $1 AND u.email_lc = $2",
            &[&tenant_id, &email],
        )
        .await?
        .pop()
        .map(|u| u.user))
    }

    async fn user_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<User>> {
        let c = self.client().await?;
        Ok(
            query_users(&c, "u.tenant_id = $1 AND u.guid = $2", &[&tenant_id, &guid])
                .await?
                .pop()
                .map(|u| u.user),
        )
    }

    async fn create_lead(&self, tenant_id: i64, lead: NewLead) -> Result<Lead> {
        let guid = lead.guid;
        {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(map_err)?;
            let ids = insert_leads(&tx, tenant_id, std::slice::from_ref(&lead)).await?;
            outbox::leads_changed(&tx, tenant_id, Event::LeadCreated, &ids).await?;
            tx.commit().await.map_err(map_err)?;
        }
        self.lead_by_guid(tenant_id, guid)
            .await?
            .ok_or_else(|| Error::Internal("created lead vanished".into()))
    }

    async fn create_leads(&self, tenant_id: i64, leads: Vec<NewLead>) -> Result<Vec<i64>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let ids = insert_leads(&tx, tenant_id, &leads).await?;
        outbox::leads_changed(&tx, tenant_id, Event::LeadCreated, &ids).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(ids)
    }

    async fn lead_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Lead>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id WHERE l.tenant_id = $1 AND l.guid = $2 AND l.deleted_at IS NULL"
        );
        query_opt(&c, &sql, &[&tenant_id, &guid])
            .await?
            .map(|r| lead_row(&r))
            .transpose()
    }

    async fn lead_by_key(&self, tenant_id: i64, key: LeadKey, value: &str) -> Result<Option<Lead>> {
        let (column, value) = match key {
            LeadKey::Email => ("l.email_lc", value.trim().to_lowercase()),
            LeadKey::Phone => ("l.phone", value.trim().to_string()),
            LeadKey::Mobile => ("l.mobile", value.trim().to_string()),
        };
        let c = self.client().await?;
        let sql = format!(
            "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id WHERE l.tenant_id = $1 AND {column} = $2 AND l.deleted_at IS NULL"
        );
        query_opt(&c, &sql, &[&tenant_id, &value])
            .await?
            .map(|r| lead_row(&r))
            .transpose()
    }

    async fn update_lead(&self, tenant_id: i64, lead_id: i64, patch: LeadPatch) -> Result<()> {
        writes::update_lead(self, tenant_id, lead_id, &patch).await
    }

    async fn search_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        let (low, high) = super::prefix_range(text);
        let c = self.client().await?;
        query(
            &c,
            &quick_search_sql(),
            &[&tenant_id, &owner_id, &low, &high, &(limit as i64)],
        )
        .await?
        .iter()
        .map(lead_row)
        .collect()
    }

    async fn find_leads(&self, q: &LeadQuery) -> Result<Vec<Lead>> {
        let (sql, values) = lead_page_sql(q);
        let c = self.client().await?;
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        query(&c, &sql, &params)
            .await?
            .iter()
            .map(lead_row)
            .collect()
    }

    async fn lead_attribute_names(&self, tenant_id: i64, limit: u32) -> Result<Vec<String>> {
        let c = self.client().await?;
        query(
            &c,
            "SELECT name FROM lead_fields WHERE tenant_id = $1 ORDER BY name LIMIT $2",
            &[&tenant_id, &(limit as i64)],
        )
        .await?
        .iter()
        .map(|r| get::<String>(r, 0))
        .collect()
    }

    async fn list_activity_types(&self, tenant_id: i64) -> Result<Vec<ActivityType>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = $1 ORDER BY event_code"
        );
        query(&c, &sql, &[&tenant_id])
            .await?
            .iter()
            .map(type_row)
            .collect()
    }

    async fn activity_type_by_code(
        &self,
        tenant_id: i64,
        code: i64,
    ) -> Result<Option<std::sync::Arc<ActivityType>>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = $1 AND event_code = $2"
        );
        query_opt(&c, &sql, &[&tenant_id, &code])
            .await?
            .map(|r| type_row(&r).map(std::sync::Arc::new))
            .transpose()
    }

    async fn create_activity_type(
        &self,
        tenant_id: i64,
        ty: NewActivityType,
    ) -> Result<ActivityType> {
        writes::create_activity_type(self, tenant_id, ty).await
    }

    async fn update_activity_type(&self, tenant_id: i64, ty: ActivityType) -> Result<()> {
        let updated = writes::update_activity_type(self, tenant_id, ty).await;
        // Emptied after the commit (or its failure), so that no read loads the old row again
        // once the change is visible.
        self.labels.types_changed();
        updated
    }

    async fn insert_activities(
        &self,
        tenant_id: i64,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<i64>> {
        writes::insert_activities(self, tenant_id, activities).await
    }

    async fn insert_activity_scored(&self, tenant_id: i64, activity: NewActivity) -> Result<i64> {
        writes::insert_activity_scored(self, tenant_id, activity).await
    }

    async fn update_activity(&self, tenant_id: i64, u: ActivityUpdate, actor: Actor) -> Result<()> {
        writes::update_activity(self, tenant_id, u, actor).await
    }

    async fn activity_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<ActivityView>> {
        self.one_activity(
            tenant_id,
            "a.guid = $2",
            vec![Box::new(tenant_id), Box::new(guid)],
        )
        .await
    }

    async fn activity_by_id(&self, tenant_id: i64, id: i64) -> Result<Option<ActivityView>> {
        self.one_activity(
            tenant_id,
            "a.id = $2",
            vec![Box::new(tenant_id), Box::new(id)],
        )
        .await
    }

    async fn delete_activity(&self, tenant_id: i64, id: i64, actor: Actor) -> Result<()> {
        writes::delete_activity(self, tenant_id, id, actor).await
    }

    async fn delete_activities(&self, tenant_id: i64, ids: Vec<i64>, actor: Actor) -> Result<()> {
        writes::delete_activities(self, tenant_id, &ids, actor).await
    }

    async fn trashed_activity(
        &self,
        tenant_id: i64,
        key: ActivityRef,
    ) -> Result<Option<TrashedActivity>> {
        trash::trashed(self, tenant_id, key).await
    }

    async fn restore_activity(
        &self,
        tenant_id: i64,
        id: i64,
        deleted_since: Micros,
        actor: Actor,
    ) -> Result<()> {
        trash::restore_activity(self, tenant_id, id, deleted_since, actor).await
    }

    async fn activity_changes(&self, q: &ChangeQuery) -> Result<Page<ActivityChange>> {
        trash::changes(self, q).await
    }

    async fn restore_lead(&self, tenant_id: i64, guid: Uuid, deleted_since: Micros) -> Result<()> {
        trash::restore_lead(self, tenant_id, guid, deleted_since).await
    }

    async fn purge_expired(&self, p: PurgeBefore) -> Result<u64> {
        trash::purge(self, p).await
    }

    async fn list_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
             WHERE l.tenant_id = $1 AND l.deleted_at IS NULL
               AND ($2::bigint IS NULL OR l.owner_id = $2) AND l.id > $3
             ORDER BY l.id LIMIT $4"
        );
        query(
            &c,
            &sql,
            &[&tenant_id, &owner_id, &after_id, &(limit as i64)],
        )
        .await?
        .iter()
        .map(lead_row)
        .collect()
    }

    async fn delete_lead(&self, tenant_id: i64, lead_id: i64) -> Result<()> {
        writes::delete_lead(self, tenant_id, lead_id).await
    }

    async fn create_account(&self, tenant_id: i64, account: NewAccount) -> Result<Account> {
        writes::create_account(self, tenant_id, account).await
    }

    async fn account_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Account>> {
        let c = self.client().await?;
        let sql = format!("{ACCOUNT_SELECT} WHERE ac.tenant_id = $1 AND ac.guid = $2");
        query_opt(&c, &sql, &[&tenant_id, &guid])
            .await?
            .map(|r| account_row(&r))
            .transpose()
    }

    async fn list_accounts(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Account>> {
        let c = self.client().await?;
        let sql = format!(
            "{ACCOUNT_SELECT} WHERE ac.tenant_id = $1 AND ac.id > $2 ORDER BY ac.id LIMIT $3"
        );
        query(&c, &sql, &[&tenant_id, &after_id, &(limit as i64)])
            .await?
            .iter()
            .map(account_row)
            .collect()
    }

    async fn people_page(&self, q: &DirectoryQuery) -> Result<Page<Lead>> {
        self.directory_page(q, lead_row).await
    }

    async fn accounts_page(&self, q: &DirectoryQuery) -> Result<Page<Account>> {
        self.directory_page(q, account_row).await
    }

    async fn users_page(&self, q: &DirectoryQuery) -> Result<Page<UserRecord>> {
        self.directory_page(q, rows::user_record_row).await
    }

    async fn create_webhook(
        &self,
        tenant_id: i64,
        hook: NewWebhook,
        max: usize,
    ) -> Result<Webhook> {
        outbox::create_webhook(self, tenant_id, hook, max).await
    }

    async fn list_webhooks(&self, tenant_id: i64) -> Result<Vec<Webhook>> {
        outbox::list_webhooks(self, tenant_id).await
    }

    async fn delete_webhook(&self, tenant_id: i64, guid: Uuid) -> Result<()> {
        outbox::delete_webhook(self, tenant_id, guid).await
    }

    async fn set_webhook_enabled(
        &self,
        tenant_id: i64,
        id: i64,
        enabled: bool,
    ) -> Result<Option<Webhook>> {
        outbox::set_webhook_enabled(self, tenant_id, id, enabled).await
    }

    async fn delete_sl_webhook(&self, tenant_id: i64, id: i64) -> Result<()> {
        outbox::delete_sl_webhook(self, tenant_id, id).await
    }

    async fn enqueue_test_event(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Uuid>> {
        outbox::enqueue_test(self, tenant_id, guid).await
    }

    async fn webhook_deliveries(
        &self,
        tenant_id: i64,
        guid: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>> {
        outbox::deliveries(self, tenant_id, guid, before, limit).await
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        outbox::claim(self, now, lease_until, limit).await
    }

    async fn finish_delivery(&self, due: &DueDelivery, outcome: &Outcome) -> Result<()> {
        outbox::finish(self, due, outcome).await
    }

    async fn claim_idempotency_key(
        &self,
        tenant_id: i64,
        claim: &crate::store::KeyClaim,
    ) -> Result<crate::store::KeyState> {
        idempotency::claim(self, tenant_id, claim).await
    }

    async fn idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        expired_before: i64,
        abandoned_before: i64,
    ) -> Result<Option<crate::store::KeyRecord>> {
        idempotency::record(self, tenant_id, key, expired_before, abandoned_before).await
    }

    async fn finish_idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        owner: i64,
        answer: Option<crate::store::StoredAnswer>,
    ) -> Result<()> {
        idempotency::finish(self, tenant_id, key, owner, answer).await
    }

    async fn prune_idempotency_keys(&self, claimed_before: i64, limit: u32) -> Result<u64> {
        idempotency::prune(self, claimed_before, limit).await
    }

    async fn weekly_counts(
        &self,
        tenant_id: i64,
        lead_owner: Option<i64>,
        from: crate::domain::Micros,
        until: crate::domain::Micros,
        limit: u32,
    ) -> Result<Vec<super::WeeklyCount>> {
        let sql = super::weekly_counts_sql(lead_owner.is_some(), |n| format!("${n}"))
            .replace("sum(n)", "sum(n)::bigint");
        let c = self.client().await?;
        let limit = i64::from(limit);
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            vec![&tenant_id, &from, &until, &limit];
        if let Some(owner) = &lead_owner {
            params.push(owner);
        }
        query(&c, &sql, &params)
            .await?
            .iter()
            .map(|r| {
                Ok(super::WeeklyCount {
                    week_start: get(r, 0)?,
                    type_id: get(r, 1)?,
                    owner_id: get(r, 2)?,
                    count: get(r, 3)?,
                })
            })
            .collect()
    }

    async fn list_activities(&self, q: &ActivityQuery) -> Result<Page<ActivityView>> {
        // Counting touches only `activities` (and `leads` for visibility), so the planner can
        // answer from an index; a cap bounds the work on huge tenants.
        self.activity_page(q.tenant_id, activity_count_sql(q), activity_page_sql(q))
            .await
    }

    /// The lead, then its page: two reads (PostgreSQL's page query is the cost, not the lookup).
    async fn lead_activities(
        &self,
        lead_guid: Uuid,
        owner_only: Option<i64>,
        query: &ActivityQuery,
    ) -> Result<Option<Page<ActivityView>>> {
        let Some(lead) = self.lead_by_guid(query.tenant_id, lead_guid).await? else {
            return Ok(None);
        };
        if !crate::domain::lead_visible(owner_only, lead.owner_id) {
            return Ok(None);
        }
        let query = ActivityQuery {
            lead_id: Some(lead.id),
            ..query.clone()
        };
        self.list_activities(&query).await.map(Some)
    }
}

#[cfg(all(test, pg_tests))]
mod tests;
