//! Storage: one trait with a method per operation the service needs, and its backends.
//!
//! Every method takes the tenant explicitly and every query is scoped by it in SQL, so isolation
//! never depends on filtering results afterwards.

pub mod budgets;
pub(crate) mod directory;
mod history;
pub mod idempotency;
mod instrumented;
mod labels;
pub mod postgres;
pub(crate) mod sql;
pub mod sqlite;

pub use instrumented::InstrumentedStore;

use async_trait::async_trait;
use uuid::Uuid;

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
use crate::events::{Delivery, DueDelivery, NewWebhook, Outcome, Webhook};
pub use budgets::SharedBudgets;
pub use idempotency::{KeyClaim, KeyRecord, KeyState, StoredAnswer};

/// A user found by credentials, with the digest to verify the presented secret against.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub secret_key_digest: Vec<u8>,
}

/// One cell of the web overview's charts: how many activities of one type and one owner happened
/// in one week, read from the aggregate the write transactions keep (`activity_weekly_counts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyCount {
    /// Monday 00:00 UTC starting the week, in microseconds.
    pub week_start: crate::domain::Micros,
    pub type_id: i64,
    pub owner_id: i64,
    pub count: i64,
}

/// The SQL of `Store::weekly_counts`, placeholders written by `ph`: with `lead_owner` it reads the
/// lead-owner index, without it the table's key (both ranges of weeks of one tenant).
pub(crate) fn weekly_counts_sql(lead_owner: bool, ph: fn(usize) -> String) -> String {
    let owner = if lead_owner {
        format!(" AND lead_owner_id = {}", ph(5))
    } else {
        String::new()
    };
    format!(
        "SELECT week_start, type_id, owner_id, sum(n) FROM activity_weekly_counts
          WHERE tenant_id = {} AND week_start >= {} AND week_start < {}{owner}
          GROUP BY week_start, type_id, owner_id HAVING sum(n) > 0
          ORDER BY week_start, type_id, owner_id LIMIT {}",
        ph(1),
        ph(2),
        ph(3),
        ph(4)
    )
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the store answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Creates a tenant with its first user and its starter activity types, in one transaction.
    async fn create_tenant(
        &self,
        name: &str,
        admin: NewUser,
        types: Vec<NewActivityType>,
    ) -> Result<(Tenant, User)>;
    /// The tenant with this GUID, if any.
    async fn tenant_by_guid(&self, guid: Uuid) -> Result<Option<Tenant>>;
    /// How many tenants the store holds.
    async fn count_tenants(&self) -> Result<u64>;

    /// Creates a user in the tenant; fails with `Error::Duplicate` when the email is taken.
    async fn create_user(&self, tenant_id: i64, user: NewUser) -> Result<User>;
    /// The user whose access key hashes to `digest`, with the digest of its secret key.
    async fn user_by_access_key(&self, digest: &[u8; 32]) -> Result<Option<UserCredentials>>;
    /// The user whose API key hashes to `digest`.
    async fn user_by_api_key(&self, digest: &[u8; 32]) -> Result<Option<User>>;
    /// The tenant's users.
    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>>;
    /// The tenant's user with this email.
    async fn user_by_email(&self, tenant_id: i64, email: &str) -> Result<Option<User>>;
    /// The tenant's user with this GUID.
    async fn user_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<User>>;

    /// Fails with `Error::Duplicate` naming the field when email, phone or mobile is taken.
    async fn create_lead(&self, tenant_id: i64, lead: NewLead) -> Result<Lead>;
    /// Creates many leads in one transaction (demo data, imports).
    async fn create_leads(&self, tenant_id: i64, leads: Vec<NewLead>) -> Result<Vec<i64>>;
    /// The tenant's lead with this GUID.
    async fn lead_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Lead>>;
    /// The lead whose unique `key` attribute equals `value` (emails compared case-insensitively).
    async fn lead_by_key(&self, tenant_id: i64, key: LeadKey, value: &str) -> Result<Option<Lead>>;

    /// Applies `patch` to the tenant's live lead `lead_id` in one transaction: its values merged
    /// with the lead's current ones, `updated_at` from the tenant's clock (so it moves forward),
    /// and, when the owner changes, every activity of the lead restamped so that cursor clients
    /// see them enter or leave a Sales_User's view. `Error::Duplicate` naming the field when the
    /// new email, phone or mobile is another lead's; `Error::Required` when the lead would be
    /// left with none of its identifying values; `Error::NotFound` when there is no such lead.
    async fn update_lead(&self, tenant_id: i64, lead_id: i64, patch: LeadPatch) -> Result<()>;
    /// Live leads (of one owner when given) whose name, email, phone or mobile starts with `text`
    /// (emails and names compared case-insensitively), by ascending id, at most `limit`: the
    /// oldest among each searched column's first `limit` matches in that column's index order
    /// (`quick_search_ids_sql`), so that the cost does not grow with the tenant's leads.
    async fn search_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Lead>>;
    /// One page of the tenant's live leads `query` selects, in its order.
    async fn find_leads(&self, query: &LeadQuery) -> Result<Vec<Lead>>;
    /// The tenant's custom lead fields: the names of the attributes (`mx_…`, Source, Company,
    /// JobTitle) its leads have held (`lead_fields`), sorted, at most `limit`.
    async fn lead_attribute_names(&self, tenant_id: i64, limit: u32) -> Result<Vec<String>>;

    /// The tenant's activity types.
    async fn list_activity_types(&self, tenant_id: i64) -> Result<Vec<ActivityType>>;
    /// The tenant's activity type with this event code. Shared rather than owned: every write of
    /// an activity looks its type up, and the SQLite store hands out the copy its type directory
    /// keeps instead of parsing the type again.
    async fn activity_type_by_code(
        &self,
        tenant_id: i64,
        code: i64,
    ) -> Result<Option<std::sync::Arc<ActivityType>>>;
    /// Fails with `Error::Duplicate` when the name or code is taken.
    async fn create_activity_type(
        &self,
        tenant_id: i64,
        ty: NewActivityType,
    ) -> Result<ActivityType>;
    /// Replaces the type's definition; the activities of the type follow its Salesloft type.
    async fn update_activity_type(&self, tenant_id: i64, ty: ActivityType) -> Result<()>;

    /// Inserts all activities in one transaction (all or none), adds each one's score to its lead,
    /// and returns their integer ids in order.
    async fn insert_activities(
        &self,
        tenant_id: i64,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<i64>>;
    /// Inserts one activity on a lead like `insert_activities` and returns the lead's score as
    /// the same transaction left it (so a Create needs no second read).
    async fn insert_activity_scored(&self, tenant_id: i64, activity: NewActivity) -> Result<i64>;
    /// Applies the update's given fields to the activity and stamps it modified by the actor,
    /// recording the values that changed (before and after) in the same transaction.
    async fn update_activity(
        &self,
        tenant_id: i64,
        update: ActivityUpdate,
        actor: Actor,
    ) -> Result<()>;
    /// The tenant's activity with this GUID.
    async fn activity_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<ActivityView>>;
    /// One page of the activities `query` selects, in its order, with the count it asks for.
    async fn list_activities(&self, query: &ActivityQuery) -> Result<Page<ActivityView>>;
    /// The activities of the tenant's lead `lead_guid`, listed by `query` with its `lead_id` set
    /// to that lead's; `None` when no such lead exists, it is deleted, or `owner_only` names a
    /// user who does not own it (a Sales_User sees only its own leads' activities).
    ///
    /// Why one method and not `lead_by_guid` then `list_activities`: a backend can do both in one
    /// read transaction. The SQLite store does; resolving the lead in a read of its own was 7.6 %
    /// of a Retrieve's server CPU (docs/benchmarks.md).
    async fn lead_activities(
        &self,
        lead_guid: Uuid,
        owner_only: Option<i64>,
        query: &ActivityQuery,
    ) -> Result<Option<Page<ActivityView>>>;

    /// One activity by its integer id (Salesloft's `{type}-{id}`).
    async fn activity_by_id(&self, tenant_id: i64, id: i64) -> Result<Option<ActivityView>>;
    /// Deletes an activity: moves its row to the trash (restorable by `restore_activity` until
    /// purged), takes its score back from its lead and records the deletion, in one transaction.
    /// Refuses an opportunity that still has activities logged on it.
    async fn delete_activity(&self, tenant_id: i64, id: i64, actor: Actor) -> Result<()>;
    /// Deletes every activity of `ids` as `delete_activity` deletes one (trash, score, change
    /// record, event), all in one transaction: when any of them fails, none is deleted.
    async fn delete_activities(&self, tenant_id: i64, ids: Vec<i64>, actor: Actor) -> Result<()>;
    /// A trashed activity, with its lead's current owner (for the caller's visibility).
    async fn trashed_activity(
        &self,
        tenant_id: i64,
        key: ActivityRef,
    ) -> Result<Option<TrashedActivity>>;
    /// Moves trashed activity `id` back with the same id and GUID, a fresh `updated_at` from the
    /// tenant clock and its score added back to its lead, recording the restore. `NotFound` when
    /// it is not in the trash or was deleted before `deleted_since`; `Conflict` when its lead was
    /// purged or the opportunity it was logged on is deleted.
    async fn restore_activity(
        &self,
        tenant_id: i64,
        id: i64,
        deleted_since: Micros,
        actor: Actor,
    ) -> Result<()>;
    /// One page of the change records `q` selects, oldest first, counted when it asks.
    async fn activity_changes(&self, q: &ChangeQuery) -> Result<Page<ActivityChange>>;
    /// Takes the soft-deleted lead `guid` back (deleted at or after `deleted_since`), restamping
    /// its activities. `NotFound` when there is no such deleted lead; `Duplicate` when a live lead
    /// has taken its email, phone or mobile.
    async fn restore_lead(&self, tenant_id: i64, guid: Uuid, deleted_since: Micros) -> Result<()>;
    /// Purges, in every tenant, at most `p.batch` of each: trashed activities and change records
    /// older than their limits, and soft-deleted leads (with all their activities). Returns how
    /// many rows went, so a caller repeats until 0.
    async fn purge_expired(&self, p: PurgeBefore) -> Result<u64>;
    /// Live (not deleted) leads by ascending id after `after_id`, optionally of one owner.
    async fn list_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Lead>>;
    /// Soft-deletes a lead: lookups stop finding it, its activities stay (Salesloft then reports
    /// the person as a failed dynamic resource).
    async fn delete_lead(&self, tenant_id: i64, lead_id: i64) -> Result<()>;
    /// Fails with `Error::Duplicate` when the name is taken (case-insensitively).
    async fn create_account(&self, tenant_id: i64, account: NewAccount) -> Result<Account>;
    /// The tenant's account with this GUID.
    async fn account_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Account>>;
    /// Accounts by ascending id after `after_id`.
    async fn list_accounts(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Account>>;

    /// One page of the live leads `q` (of kind People) selects, in its order, with the count it
    /// asks for; count and page read one snapshot (Salesloft's `/v2/people`).
    async fn people_page(&self, q: &DirectoryQuery) -> Result<Page<Lead>>;
    /// One page of the accounts `q` (of kind Accounts) selects, as `people_page`.
    async fn accounts_page(&self, q: &DirectoryQuery) -> Result<Page<Account>>;
    /// One page of the users `q` (of kind Users) selects, as `people_page`.
    async fn users_page(&self, q: &DirectoryQuery) -> Result<Page<UserRecord>>;

    /// Stores a webhook subscription; `Error::Conflict` when the tenant already holds `max`.
    async fn create_webhook(&self, tenant_id: i64, hook: NewWebhook, max: usize)
        -> Result<Webhook>;
    /// The tenant's subscriptions (native and Salesloft) by ascending id.
    async fn list_webhooks(&self, tenant_id: i64) -> Result<Vec<Webhook>>;
    /// Deletes the tenant's native subscription `guid` and its deliveries; `Error::NotFound` if
    /// none.
    async fn delete_webhook(&self, tenant_id: i64, guid: Uuid) -> Result<()>;
    /// Enables or disables the tenant's Salesloft subscription `id`; the subscription as it is
    /// then, `None` when the tenant has no Salesloft subscription `id`.
    async fn set_webhook_enabled(
        &self,
        tenant_id: i64,
        id: i64,
        enabled: bool,
    ) -> Result<Option<Webhook>>;
    /// Deletes the tenant's Salesloft subscription `id` and its deliveries, if it has one.
    async fn delete_sl_webhook(&self, tenant_id: i64, id: i64) -> Result<()>;
    /// Queues a `webhook.test` event for the tenant's subscription `guid` behind its other
    /// deliveries; the delivery's GUID, `None` when there is no such subscription.
    async fn enqueue_test_event(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Uuid>>;
    /// The delivery log of the tenant's subscription `guid`, newest first, ids below `before`
    /// when given, at most `limit`; `None` when there is no such subscription.
    async fn webhook_deliveries(
        &self,
        tenant_id: i64,
        guid: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>>;
    /// Claims, for at most `limit` subscriptions (of any tenant) whose head delivery is due at
    /// `now` and that no dispatcher holds, the head delivery until `lease_until`. Several
    /// processes on one database each claim different subscriptions.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>>;
    /// Records an attempt's outcome and lets go of the subscription.
    async fn finish_delivery(&self, due: &DueDelivery, outcome: &Outcome) -> Result<()>;
    /// Claims `claim.key` for the tenant in one atomic step: a new key, an expired record or one
    /// abandoned unanswered (`KeyClaim`) becomes this request's; otherwise the live record.
    async fn claim_idempotency_key(&self, tenant_id: i64, claim: &KeyClaim) -> Result<KeyState>;
    /// The tenant's live record of `key`: `None` when there is none, it was claimed before
    /// `expired_before`, or it is unanswered and was claimed before `abandoned_before`.
    async fn idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        expired_before: i64,
        abandoned_before: i64,
    ) -> Result<Option<KeyRecord>>;
    /// Stores the answer of the request holding the claim `owner` on `key`, or (`None`) lets the
    /// key go so that a retry runs again. Does nothing when the claim is no longer `owner`'s.
    async fn finish_idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        owner: i64,
        answer: Option<StoredAnswer>,
    ) -> Result<()>;
    /// Deletes at most `limit` records (of any tenant) claimed before `claimed_before`; how many.
    async fn prune_idempotency_keys(&self, claimed_before: i64, limit: u32) -> Result<u64>;
    /// The tenant's activity counts per week starting in `[from, until)`, type and owner, of the
    /// activities on leads `lead_owner` owns when given (a Sales_User's view), by week, at most
    /// `limit` cells: from the aggregate kept with every write, never a scan of the activities.
    async fn weekly_counts(
        &self,
        tenant_id: i64,
        lead_owner: Option<i64>,
        from: crate::domain::Micros,
        until: crate::domain::Micros,
        limit: u32,
    ) -> Result<Vec<WeeklyCount>>;
}

/// The Salesloft types a list with two or more of them is split into, one index-ordered arm each
/// (then merged), or `None` when one index range already serves it: a single type, a sort other
/// than occurred_at/updated_at, or a lead/opportunity/resource/id filter (already narrow).
/// Each arm reads at most offset+limit rows, so the page costs (offset+limit) × types rows
/// however rare the types are, instead of a walk of the tenant's date index.
pub(crate) fn per_type_arms(q: &ActivityQuery) -> Option<Vec<String>> {
    if !matches!(
        q.sort,
        crate::domain::ActivitySort::OccurredAt | crate::domain::ActivitySort::UpdatedAt
    ) || q.lead_id.is_some()
        || q.opportunity_id.is_some()
        || !q.resources.is_empty()
        || !q.ids.is_empty()
        || q.match_nothing
        || q.types.iter().any(|t| t.sl_types.is_empty())
    {
        return None;
    }
    let mut types: Vec<String> = q
        .types
        .iter()
        .flat_map(|t| t.sl_types.iter().cloned())
        .collect();
    types.sort();
    types.dedup();
    (types.len() >= 2).then_some(types)
}

/// The SQL of a `LeadQuery` after `SELECT {cols} FROM leads l JOIN users o ON o.id = l.owner_id`,
/// with its parameters (all integers), placeholders written by `ph` (`?1` or `$1`). The filter is
/// one index range: the owner index, or the created/modified index (both partial on live leads,
/// so `deleted_at IS NULL` is spelled out for the planner to use them).
pub(crate) fn lead_query_sql(q: &LeadQuery, ph: fn(usize) -> String) -> (String, Vec<i64>) {
    use crate::domain::{LeadDate, LeadFilter, LeadOrder};
    let date_col = |d: LeadDate| match d {
        LeadDate::Created => "l.created_at",
        LeadDate::Modified => "l.updated_at",
    };
    let mut params = vec![q.tenant_id];
    let mut sql = format!("WHERE l.tenant_id = {} AND l.deleted_at IS NULL", ph(1));
    let mut bind = |sql: &mut String, clause: &str, v: i64| {
        params.push(v);
        sql.push_str(&format!(" AND {clause} {}", ph(params.len())));
    };
    match q.filter {
        LeadFilter::Owner(owner) => bind(&mut sql, "l.owner_id =", owner),
        LeadFilter::Dated { date, from, until } => {
            if let Some(from) = from {
                bind(&mut sql, &format!("{} >=", date_col(date)), from);
            }
            if let Some(until) = until {
                bind(&mut sql, &format!("{} <", date_col(date)), until);
            }
        }
    }
    if let Some(owner) = q.owner_only {
        bind(&mut sql, "l.owner_id =", owner);
    }
    let dir = if q.descending { "DESC" } else { "ASC" };
    match q.order {
        LeadOrder::Date(d) => sql.push_str(&format!(" ORDER BY {} {dir}, l.id {dir}", date_col(d))),
        LeadOrder::Id => sql.push_str(&format!(" ORDER BY l.id {dir}")),
    }
    params.push(i64::from(q.limit));
    sql.push_str(&format!(" LIMIT {}", ph(params.len())));
    params.push(i64::try_from(q.offset).unwrap_or(i64::MAX));
    sql.push_str(&format!(" OFFSET {}", ph(params.len())));
    (sql, params)
}

/// The most custom lead fields (`mx_…`, Source, Company, JobTitle) a tenant may have: a lead write
/// that would add one more is refused (`check_new_lead_fields`), so `LeadsMetaData.Get` lists them
/// all from the `lead_fields` table.
pub const MAX_LEAD_FIELDS: usize = 500;

/// The refusal of a lead write that would give the tenant (holding `have` custom lead fields)
/// `new` more, `first` among them, when that passes `MAX_LEAD_FIELDS`.
pub(crate) fn check_new_lead_fields(have: usize, new: usize, first: Option<&str>) -> Result<()> {
    match first {
        Some(name) if have + new > MAX_LEAD_FIELDS => Err(Error::InvalidInput(format!(
            "Lead field {name} would be a new custom lead field, and the tenant has {have} of the \
             {MAX_LEAD_FIELDS} it may have: use an existing one"
        ))),
        _ => Ok(()),
    }
}

/// The searched columns of `Store::search_leads`, each the expression an index of live leads
/// (`tenant_id`, expression) serves: the full name ("first last", which also serves a first name:
/// every first name that starts with the key starts the full name), the last name, the email,
/// the phone and the mobile. The names are lower-cased as the key is.
const QUICK_SEARCH_COLUMNS: [&str; 5] = [
    "lower(coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, ''))",
    "lower(l.last_name)",
    "l.email_lc",
    "l.phone",
    "l.mobile",
];

/// The ids of `Store::search_leads`' candidates: per searched column, the first `limit` live leads
/// (the owner's only, when the owner parameter is not null) whose value lies in the key's prefix
/// range, in the order of that column's index; at most 5 × `limit` ids, some repeated. `ph` writes
/// placeholders (`?1`/`$1`): 1 tenant, 2 owner or null, 3 and 4 the range (`prefix_range`), 5 the
/// limit; `collate` is what makes the comparison the index's (`COLLATE "C"` on PostgreSQL, whose
/// indexes are built with it so that a range is a range of code points).
pub(crate) fn quick_search_ids_sql(
    ph: fn(usize) -> String,
    owner_cast: &str,
    collate: &str,
) -> String {
    let (t, o, lo, hi, n) = (ph(1), ph(2), ph(3), ph(4), ph(5));
    QUICK_SEARCH_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let e = format!("({col}){collate}");
            format!(
                "SELECT id FROM (SELECT l.id FROM leads l
                   WHERE l.tenant_id = {t} AND l.deleted_at IS NULL
                     AND ({o}{owner_cast} IS NULL OR l.owner_id = {o})
                     AND {e} >= {lo} AND {e} < {hi}
                   ORDER BY {e} LIMIT {n}) AS arm{i}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The key range of values that start with `text` (trimmed, lower-cased as the searched columns
/// are): from the key itself to the key followed by the last code point, in code point order.
/// Matching is literal (`%` and `_` are characters like any other).
pub fn prefix_range(text: &str) -> (String, String) {
    let low = text.trim().to_lowercase();
    let high = format!("{low}\u{10FFFF}");
    (low, high)
}

/// A store opened from a URL, with the rate budgets it keeps for every server process on it.
pub struct Opened {
    pub store: std::sync::Arc<dyn Store>,
    /// `None` when the store keeps no shared budgets (SQLite: one process, budgets in memory).
    pub budgets: Option<std::sync::Arc<dyn SharedBudgets>>,
}

/// Opens the store a `--db` URL names: `sqlite://PATH` (or `sqlite:PATH`), or
/// `postgres://…` / `postgresql://…` (connects, then applies pending migrations). Its calls are
/// traced and timed (see `InstrumentedStore`).
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    open_with_budgets(url).await.map(|opened| opened.store)
}

/// The file a `sqlite://PATH` (or `sqlite:PATH`) URL names; `None` for any other URL.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
}

/// Like `open`, also giving the rate budgets the store keeps (the PostgreSQL store keeps them).
pub async fn open_with_budgets(url: &str) -> Result<Opened> {
    open_with_bounds(url, sqlite::Bounds::default()).await
}

/// `open_with_budgets`, with a SQLite store's job queues and read caches bounded at `bounds` (a
/// PostgreSQL store has no such queues: a call waits for a pooled connection at most
/// `POOL_TIMEOUT`).
pub async fn open_with_bounds(url: &str, bounds: sqlite::Bounds) -> Result<Opened> {
    if let Some(path) = sqlite_path(url) {
        let store = sqlite::SqliteStore::open_with(path, bounds)
            .map_err(|e| Error::Unavailable(format!("cannot open {url}: {e}").into()))?;
        return Ok(Opened {
            store: std::sync::Arc::new(InstrumentedStore::new(std::sync::Arc::new(store))),
            budgets: None,
        });
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = std::sync::Arc::new(
            postgres::PgStore::open(url)
                .await
                .map_err(|e| Error::Unavailable(e.into()))?,
        );
        return Ok(Opened {
            store: std::sync::Arc::new(InstrumentedStore::new(store.clone())),
            budgets: Some(store),
        });
    }
    Err(Error::InvalidInput(format!(
        "unsupported database URL '{}': expected sqlite://PATH or postgres://…",
        redact_url(url)
    )))
}

/// The URL with any password (in the userinfo or a `password=` query parameter) replaced by
/// `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &base[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &base[..s + 3], &userinfo[..c], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_ranges_hold_exactly_the_values_that_start_with_the_key() {
        let (low, high) = super::prefix_range(" Ada_% ");
        assert_eq!(low, "ada_%");
        for v in ["ada_%", "ada_%x", "ada_%\u{10FFFE}", "ada_%zzz \u{FFFF}"] {
            assert!(
                v >= low.as_str() && v < high.as_str(),
                "{v:?} is in the range"
            );
        }
        for v in ["ada_", "ada_a", "adb", "ada_&", "b", ""] {
            assert!(!(v >= low.as_str() && v < high.as_str()), "{v:?} is not");
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(
            super::redact_url("postgres://u@h/db?sslmode=disable&password=secret"),
            "postgres://u@h/db?sslmode=disable&password=***"
        );
    }
}
