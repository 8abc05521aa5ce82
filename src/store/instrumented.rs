//! `InstrumentedStore`: any `Store`, with every call run in a `store` span and timed.
//!
//! The span (`op`: the method; `tenant_id` where the method takes one) is a child of whatever span
//! is current, the request's `http` span when a handler calls, so a line logged during the call
//! names the request it served. It is a debug-level span: at the default `info` filter it is not
//! created, so the several store calls of a request add no span bookkeeping (the fields of an
//! enabled span are formatted when it opens), and a line logged during a call still carries the
//! request's `http` span, which the SQLite store takes along onto its reader and writer threads. The time each call took goes to
//! `activity_hub_store_call_duration_seconds{op,outcome}` (see `telemetry::store_call`).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use tracing::Instrument;
use uuid::Uuid;

use super::{Store, UserCredentials};
use crate::domain::directory::{DirectoryQuery, UserRecord};
use crate::domain::history::{
    ActivityChange, ActivityRef, Actor, ChangeQuery, PurgeBefore, TrashedActivity,
};
use crate::domain::Micros;
use crate::domain::{
    Account, ActivityQuery, ActivityType, ActivityUpdate, ActivityView, Lead, LeadKey, LeadPatch,
    LeadQuery, NewAccount, NewActivity, NewActivityType, NewLead, NewUser, Page, Tenant, User,
};
use crate::error::Result;
use crate::events::{Delivery, DueDelivery, NewWebhook, Outcome, Webhook};

/// Wraps a backend; `store::open` hands every caller one of these.
pub struct InstrumentedStore {
    inner: Arc<dyn Store>,
}

impl InstrumentedStore {
    pub fn new(inner: Arc<dyn Store>) -> InstrumentedStore {
        InstrumentedStore { inner }
    }
}

/// Runs `call` (the backend's method `op`) in its span and records its duration and outcome.
async fn observed<T>(
    op: &'static str,
    tenant_id: Option<i64>,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    let span = tracing::debug_span!("store", op, tenant_id);
    let start = Instant::now();
    let out = call.instrument(span).await;
    crate::telemetry::store_call(op, out.is_ok(), start.elapsed());
    out
}

#[async_trait]
impl Store for InstrumentedStore {
    async fn ping(&self) -> Result<()> {
        observed("ping", None, self.inner.ping()).await
    }

    async fn create_tenant(
        &self,
        name: &str,
        admin: NewUser,
        types: Vec<NewActivityType>,
    ) -> Result<(Tenant, User)> {
        let call = self.inner.create_tenant(name, admin, types);
        observed("create_tenant", None, call).await
    }
    async fn tenant_by_guid(&self, guid: Uuid) -> Result<Option<Tenant>> {
        observed("tenant_by_guid", None, self.inner.tenant_by_guid(guid)).await
    }
    async fn count_tenants(&self) -> Result<u64> {
        observed("count_tenants", None, self.inner.count_tenants()).await
    }

    async fn create_user(&self, tenant_id: i64, user: NewUser) -> Result<User> {
        let call = self.inner.create_user(tenant_id, user);
        observed("create_user", Some(tenant_id), call).await
    }
    async fn user_by_access_key(&self, digest: &[u8; 32]) -> Result<Option<UserCredentials>> {
        let call = self.inner.user_by_access_key(digest);
        observed("user_by_access_key", None, call).await
    }
    async fn user_by_api_key(&self, digest: &[u8; 32]) -> Result<Option<User>> {
        observed("user_by_api_key", None, self.inner.user_by_api_key(digest)).await
    }
    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>> {
        let call = self.inner.list_users(tenant_id);
        observed("list_users", Some(tenant_id), call).await
    }
    async fn user_by_email(&self, tenant_id: i64, email: &str) -> Result<Option<User>> {
        let call = self.inner.user_by_email(tenant_id, email);
        observed("user_by_email", Some(tenant_id), call).await
    }
    async fn user_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<User>> {
        let call = self.inner.user_by_guid(tenant_id, guid);
        observed("user_by_guid", Some(tenant_id), call).await
    }

    async fn create_lead(&self, tenant_id: i64, lead: NewLead) -> Result<Lead> {
        let call = self.inner.create_lead(tenant_id, lead);
        observed("create_lead", Some(tenant_id), call).await
    }
    async fn create_leads(&self, tenant_id: i64, leads: Vec<NewLead>) -> Result<Vec<i64>> {
        let call = self.inner.create_leads(tenant_id, leads);
        observed("create_leads", Some(tenant_id), call).await
    }
    async fn lead_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Lead>> {
        let call = self.inner.lead_by_guid(tenant_id, guid);
        observed("lead_by_guid", Some(tenant_id), call).await
    }
    async fn lead_by_key(&self, tenant_id: i64, key: LeadKey, value: &str) -> Result<Option<Lead>> {
        let call = self.inner.lead_by_key(tenant_id, key, value);
        observed("lead_by_key", Some(tenant_id), call).await
    }

    async fn list_activity_types(&self, tenant_id: i64) -> Result<Vec<ActivityType>> {
        let call = self.inner.list_activity_types(tenant_id);
        observed("list_activity_types", Some(tenant_id), call).await
    }
    async fn activity_type_by_code(
        &self,
        tenant_id: i64,
        code: i64,
    ) -> Result<Option<Arc<ActivityType>>> {
        let call = self.inner.activity_type_by_code(tenant_id, code);
        observed("activity_type_by_code", Some(tenant_id), call).await
    }
    async fn create_activity_type(
        &self,
        tenant_id: i64,
        ty: NewActivityType,
    ) -> Result<ActivityType> {
        let call = self.inner.create_activity_type(tenant_id, ty);
        observed("create_activity_type", Some(tenant_id), call).await
    }
    async fn update_activity_type(&self, tenant_id: i64, ty: ActivityType) -> Result<()> {
        let call = self.inner.update_activity_type(tenant_id, ty);
        observed("update_activity_type", Some(tenant_id), call).await
    }

    async fn insert_activities(
        &self,
        tenant_id: i64,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<i64>> {
        let call = self.inner.insert_activities(tenant_id, activities);
        observed("insert_activities", Some(tenant_id), call).await
    }
    async fn insert_activity_scored(&self, tenant_id: i64, activity: NewActivity) -> Result<i64> {
        let call = self.inner.insert_activity_scored(tenant_id, activity);
        observed("insert_activity_scored", Some(tenant_id), call).await
    }
    async fn update_activity(
        &self,
        tenant_id: i64,
        update: ActivityUpdate,
        actor: Actor,
    ) -> Result<()> {
        let call = self.inner.update_activity(tenant_id, update, actor);
        observed("update_activity", Some(tenant_id), call).await
    }
    async fn activity_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<ActivityView>> {
        let call = self.inner.activity_by_guid(tenant_id, guid);
        observed("activity_by_guid", Some(tenant_id), call).await
    }
    async fn list_activities(&self, query: &ActivityQuery) -> Result<Page<ActivityView>> {
        let call = self.inner.list_activities(query);
        observed("list_activities", Some(query.tenant_id), call).await
    }
    async fn lead_activities(
        &self,
        lead_guid: Uuid,
        owner_only: Option<i64>,
        query: &ActivityQuery,
    ) -> Result<Option<Page<ActivityView>>> {
        let call = self.inner.lead_activities(lead_guid, owner_only, query);
        observed("lead_activities", Some(query.tenant_id), call).await
    }

    async fn activity_by_id(&self, tenant_id: i64, id: i64) -> Result<Option<ActivityView>> {
        let call = self.inner.activity_by_id(tenant_id, id);
        observed("activity_by_id", Some(tenant_id), call).await
    }
    async fn delete_activity(&self, tenant_id: i64, id: i64, actor: Actor) -> Result<()> {
        let call = self.inner.delete_activity(tenant_id, id, actor);
        observed("delete_activity", Some(tenant_id), call).await
    }
    async fn delete_activities(&self, tenant_id: i64, ids: Vec<i64>, actor: Actor) -> Result<()> {
        let call = self.inner.delete_activities(tenant_id, ids, actor);
        observed("delete_activities", Some(tenant_id), call).await
    }
    async fn trashed_activity(
        &self,
        tenant_id: i64,
        key: ActivityRef,
    ) -> Result<Option<TrashedActivity>> {
        let call = self.inner.trashed_activity(tenant_id, key);
        observed("trashed_activity", Some(tenant_id), call).await
    }
    async fn restore_activity(
        &self,
        tenant_id: i64,
        id: i64,
        deleted_since: Micros,
        actor: Actor,
    ) -> Result<()> {
        let call = self
            .inner
            .restore_activity(tenant_id, id, deleted_since, actor);
        observed("restore_activity", Some(tenant_id), call).await
    }
    async fn activity_changes(&self, q: &ChangeQuery) -> Result<Page<ActivityChange>> {
        let call = self.inner.activity_changes(q);
        observed("activity_changes", Some(q.tenant_id), call).await
    }
    async fn restore_lead(&self, tenant_id: i64, guid: Uuid, deleted_since: Micros) -> Result<()> {
        let call = self.inner.restore_lead(tenant_id, guid, deleted_since);
        observed("restore_lead", Some(tenant_id), call).await
    }
    async fn purge_expired(&self, p: PurgeBefore) -> Result<u64> {
        let call = self.inner.purge_expired(p);
        observed("purge_expired", None, call).await
    }
    async fn list_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        let call = self.inner.list_leads(tenant_id, owner_id, after_id, limit);
        observed("list_leads", Some(tenant_id), call).await
    }
    async fn delete_lead(&self, tenant_id: i64, lead_id: i64) -> Result<()> {
        let call = self.inner.delete_lead(tenant_id, lead_id);
        observed("delete_lead", Some(tenant_id), call).await
    }
    async fn create_account(&self, tenant_id: i64, account: NewAccount) -> Result<Account> {
        let call = self.inner.create_account(tenant_id, account);
        observed("create_account", Some(tenant_id), call).await
    }
    async fn account_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Account>> {
        let call = self.inner.account_by_guid(tenant_id, guid);
        observed("account_by_guid", Some(tenant_id), call).await
    }
    async fn list_accounts(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Account>> {
        let call = self.inner.list_accounts(tenant_id, after_id, limit);
        observed("list_accounts", Some(tenant_id), call).await
    }
    async fn people_page(&self, q: &DirectoryQuery) -> Result<Page<Lead>> {
        observed("people_page", Some(q.tenant_id), self.inner.people_page(q)).await
    }
    async fn accounts_page(&self, q: &DirectoryQuery) -> Result<Page<Account>> {
        observed(
            "accounts_page",
            Some(q.tenant_id),
            self.inner.accounts_page(q),
        )
        .await
    }
    async fn users_page(&self, q: &DirectoryQuery) -> Result<Page<UserRecord>> {
        observed("users_page", Some(q.tenant_id), self.inner.users_page(q)).await
    }
    async fn claim_idempotency_key(
        &self,
        tenant_id: i64,
        claim: &super::KeyClaim,
    ) -> Result<super::KeyState> {
        let call = self.inner.claim_idempotency_key(tenant_id, claim);
        observed("claim_idempotency_key", Some(tenant_id), call).await
    }
    async fn idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        expired_before: i64,
        abandoned_before: i64,
    ) -> Result<Option<super::KeyRecord>> {
        let call = self
            .inner
            .idempotency_key(tenant_id, key, expired_before, abandoned_before);
        observed("idempotency_key", Some(tenant_id), call).await
    }
    async fn finish_idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        owner: i64,
        answer: Option<super::StoredAnswer>,
    ) -> Result<()> {
        let call = self
            .inner
            .finish_idempotency_key(tenant_id, key, owner, answer);
        observed("finish_idempotency_key", Some(tenant_id), call).await
    }
    async fn prune_idempotency_keys(&self, claimed_before: i64, limit: u32) -> Result<u64> {
        let call = self.inner.prune_idempotency_keys(claimed_before, limit);
        observed("prune_idempotency_keys", None, call).await
    }
    async fn update_lead(&self, tenant_id: i64, lead_id: i64, patch: LeadPatch) -> Result<()> {
        let call = self.inner.update_lead(tenant_id, lead_id, patch);
        observed("update_lead", Some(tenant_id), call).await
    }
    async fn search_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        let call = self.inner.search_leads(tenant_id, owner_id, text, limit);
        observed("search_leads", Some(tenant_id), call).await
    }
    async fn find_leads(&self, query: &LeadQuery) -> Result<Vec<Lead>> {
        let call = self.inner.find_leads(query);
        observed("find_leads", Some(query.tenant_id), call).await
    }
    async fn lead_attribute_names(&self, tenant_id: i64, limit: u32) -> Result<Vec<String>> {
        let call = self.inner.lead_attribute_names(tenant_id, limit);
        observed("lead_attribute_names", Some(tenant_id), call).await
    }

    async fn create_webhook(
        &self,
        tenant_id: i64,
        hook: NewWebhook,
        max: usize,
    ) -> Result<Webhook> {
        observed(
            "create_webhook",
            Some(tenant_id),
            self.inner.create_webhook(tenant_id, hook, max),
        )
        .await
    }

    async fn list_webhooks(&self, tenant_id: i64) -> Result<Vec<Webhook>> {
        observed(
            "list_webhooks",
            Some(tenant_id),
            self.inner.list_webhooks(tenant_id),
        )
        .await
    }

    async fn delete_webhook(&self, tenant_id: i64, guid: Uuid) -> Result<()> {
        observed(
            "delete_webhook",
            Some(tenant_id),
            self.inner.delete_webhook(tenant_id, guid),
        )
        .await
    }

    async fn set_webhook_enabled(
        &self,
        tenant_id: i64,
        id: i64,
        enabled: bool,
    ) -> Result<Option<Webhook>> {
        observed(
            "set_webhook_enabled",
            Some(tenant_id),
            self.inner.set_webhook_enabled(tenant_id, id, enabled),
        )
        .await
    }

    async fn delete_sl_webhook(&self, tenant_id: i64, id: i64) -> Result<()> {
        observed(
            "delete_sl_webhook",
            Some(tenant_id),
            self.inner.delete_sl_webhook(tenant_id, id),
        )
        .await
    }

    async fn enqueue_test_event(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Uuid>> {
        observed(
            "enqueue_test_event",
            Some(tenant_id),
            self.inner.enqueue_test_event(tenant_id, guid),
        )
        .await
    }

    async fn webhook_deliveries(
        &self,
        tenant_id: i64,
        guid: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>> {
        observed(
            "webhook_deliveries",
            Some(tenant_id),
            self.inner
                .webhook_deliveries(tenant_id, guid, before, limit),
        )
        .await
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        observed(
            "claim_deliveries",
            None,
            self.inner.claim_deliveries(now, lease_until, limit),
        )
        .await
    }

    async fn finish_delivery(&self, due: &DueDelivery, outcome: &Outcome) -> Result<()> {
        observed(
            "finish_delivery",
            None,
            self.inner.finish_delivery(due, outcome),
        )
        .await
    }

    async fn weekly_counts(
        &self,
        tenant_id: i64,
        lead_owner: Option<i64>,
        from: crate::domain::Micros,
        until: crate::domain::Micros,
        limit: u32,
    ) -> Result<Vec<super::WeeklyCount>> {
        let call = self
            .inner
            .weekly_counts(tenant_id, lead_owner, from, until, limit);
        observed("weekly_counts", Some(tenant_id), call).await
    }
}
