//! SQL both backends share for change history and the activity trash: the trash's column list
//! and the change-record query built from a `ChangeQuery`.

use crate::domain::history::ChangeQuery;

/// The columns of `activities` the trash keeps (all but SQLite's virtual check column), in the
/// order `deleted_activities` declares them.
pub(crate) const ACTIVITY_COLS: &str = "id, tenant_id, guid, type_id, event_code, lead_id, account_id, \
    opportunity_id, owner_id, created_by, modified_by, note, occurred_at, created_at, updated_at, score, \
    status, fields, pinned_at, tags, static_data, sl_type, res_kind, res_id, lead_owner_id";

/// The SELECT list that puts a trashed row `d` back: `modified_by` and `updated_at` from the
/// restore (placeholders `by` and `ts`, so cursor clients see it again), its lead's current owner.
pub(crate) fn restore_select(by: &str, ts: &str) -> String {
    format!(
        "d.id, d.tenant_id, d.guid, d.type_id, d.event_code, d.lead_id, d.account_id, d.opportunity_id, \
         d.owner_id, d.created_by, {by}, d.note, d.occurred_at, d.created_at, {ts}, d.score, d.status, \
         d.fields, d.pinned_at, d.tags, d.static_data, d.sl_type, d.res_kind, d.res_id, \
         (SELECT l.owner_id FROM leads l WHERE l.tenant_id = d.tenant_id AND l.id = d.lead_id)"
    )
}

/// `FROM … WHERE …` of a change query over `activity_changes c` (with its lead `l` and user `u`
/// joined), and its parameters (all integers), placeholders written by `ph`.
pub(crate) fn change_filter_sql(q: &ChangeQuery, ph: fn(usize) -> String) -> (String, Vec<i64>) {
    let mut params = vec![q.tenant_id];
    let mut sql = format!(
        "FROM activity_changes c LEFT JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id \
         LEFT JOIN users u ON u.id = c.user_id WHERE c.tenant_id = {}",
        ph(1)
    );
    let mut bind = |sql: &mut String, clause: &str, v: i64| {
        params.push(v);
        sql.push_str(&format!(" AND {clause} {}", ph(params.len())));
    };
    if let Some(id) = q.activity_id {
        bind(&mut sql, "c.activity_id =", id);
    }
    if let Some(from) = q.changed_from {
        bind(&mut sql, "c.changed_at >=", from);
    }
    if let Some(to) = q.changed_to {
        bind(&mut sql, "c.changed_at <=", to);
    }
    if q.after_id > 0 {
        bind(&mut sql, "c.id >", q.after_id);
    }
    if let Some(owner) = q.owner_only {
        bind(&mut sql, "l.owner_id =", owner);
    }
    if !q.event_codes.is_empty() {
        let mut list = Vec::with_capacity(q.event_codes.len());
        for code in &q.event_codes {
            params.push(*code);
            list.push(ph(params.len()));
        }
        sql.push_str(&format!(" AND c.event_code IN ({})", list.join(", ")));
    }
    (sql, params)
}

/// The change query's page: its columns, filter, order (oldest first: per tenant, `changed_at`
/// and `id` grow together) and window.
pub(crate) fn change_page_sql(
    q: &ChangeQuery,
    ph: fn(usize) -> String,
    text: &str,
) -> (String, Vec<i64>) {
    let (filter, mut params) = change_filter_sql(q, ph);
    params.push(i64::from(q.limit));
    let limit = ph(params.len());
    params.push(i64::try_from(q.offset).unwrap_or(i64::MAX));
    let offset = ph(params.len());
    (
        format!(
            "SELECT c.id, c.activity_id, c.activity_guid{text}, c.event_code, l.guid{text}, c.changed_at, \
             u.guid{text}, trim(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')), c.api, c.action, \
             c.before{text}, c.after{text} {filter} ORDER BY c.changed_at, c.id LIMIT {limit} OFFSET {offset}"
        ),
        params,
    )
}
