//! Documentation types of the Salesloft answers, in the shapes of Salesloft's own OpenAPI
//! (ActivityHistory, its metadata and errors): each describes, for `/openapi.json`, exactly what
//! this dialect writes (by hand in `write_history`, or with `json!`); tests/openapi checks real
//! answers against them. They are never built.

#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::domain::{ResourceKind, SALESLOFT_TYPES};

/// `{"error":"…"}`: every Salesloft error but a 422.
#[derive(ToSchema)]
#[schema(as = SalesloftError)]
pub struct ErrorBody {
    pub error: String,
}

/// A 422: the messages by query parameter name, every problem at once.
#[derive(ToSchema)]
#[schema(as = SalesloftValidationErrors)]
pub struct ValidationErrors {
    pub errors: BTreeMap<String, Vec<String>>,
}

/// One of Salesloft's activity types ([`SALESLOFT_TYPES`]).
pub struct TypeName;

impl PartialSchema for TypeName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(SALESLOFT_TYPES))
            .into()
    }
}
impl ToSchema for TypeName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SalesloftActivityType")
    }
}

/// A resource type: person, account or crm_opportunity.
pub struct ResourceTypeName;

impl PartialSchema for ResourceTypeName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ResourceKind::ALL.map(ResourceKind::as_str)))
            .into()
    }
}
impl ToSchema for ResourceTypeName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SalesloftResourceType")
    }
}

/// An activity id as clients send it: `call-12` or `12` (`parse_activity_id`).
pub struct ActivityId;

impl PartialSchema for ActivityId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!(
                "^(({})-)?[1-9][0-9]{{0,17}}$",
                SALESLOFT_TYPES.join("|")
            )))
            .description(Some(
                "`{type}-{id}` as answered (`call-12`), or the number alone.",
            ))
            .into()
    }
}
impl ToSchema for ActivityId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SalesloftActivityId")
    }
}

/// A record's integer id in a query filter (`ids`, `person_id`, `owner_id`, …): a positive
/// 64-bit integer, the only values the parsers take (anything else is a 422 naming the parameter).
pub struct RecordId;

impl PartialSchema for RecordId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(1u32))
            .maximum(Some(utoipa::Number::Int(i64::MAX as isize)))
            .into()
    }
}
impl ToSchema for RecordId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SalesloftRecordId")
    }
}

/// A record's integer id or `_is_null` in a query filter that also asks for records without
/// one (`owner_id` of accounts, `account_id` of people).
pub struct RecordIdOrNull;

impl PartialSchema for RecordIdOrNull {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^([1-9][0-9]{0,17}|_is_null)$"))
            .into()
    }
}
impl ToSchema for RecordIdOrNull {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SalesloftRecordIdOrNull")
    }
}

/// `page`: from 1 to the largest 64-bit unsigned integer, all of which the parser takes.
pub struct PageNumber;

impl PartialSchema for PageNumber {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1u32))
            .maximum(Some(utoipa::Number::UInt(u64::MAX as usize)))
            .into()
    }
}
impl ToSchema for PageNumber {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SalesloftPageNumber")
    }
}

/// `resource_id`: an integer for a person or account, the opportunity's GUID (or null) for a
/// crm_opportunity.
pub struct ResourceId;

impl PartialSchema for ResourceId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([
                Type::Integer,
                Type::String,
                Type::Null,
            ]))
            .description(Some(
                "The person's or account's integer id, or the crm_opportunity's GUID.",
            ))
            .into()
    }
}
impl ToSchema for ResourceId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SalesloftResourceId")
    }
}

/// The person an activity is on (absent once the person is deleted).
#[derive(ToSchema)]
#[schema(as = SalesloftPerson)]
pub struct Person {
    pub id: Option<i64>,
    pub guid: Option<Uuid>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: String,
    pub email_address: Option<String>,
}

/// The account of the activity's person or the account it is on.
#[derive(ToSchema)]
#[schema(as = SalesloftAccount)]
pub struct Account {
    pub id: i64,
    pub name: Option<String>,
}

/// The opportunity an activity is on.
#[derive(ToSchema)]
#[schema(as = SalesloftCrmOpportunity)]
pub struct CrmOpportunity {
    pub id: Option<Uuid>,
    pub name: Option<String>,
    pub status: Option<String>,
}

/// The activity's owner.
#[derive(ToSchema)]
#[schema(as = SalesloftUserRef)]
pub struct UserRef {
    pub guid: Uuid,
    pub name: String,
}

/// The records the activity relates to, as they are now.
#[derive(ToSchema)]
#[schema(as = SalesloftDynamicData)]
pub struct DynamicData {
    #[schema(required = false)]
    pub person: Person,
    #[schema(required = false)]
    pub account: Account,
    #[schema(required = false)]
    pub crm_opportunity: CrmOpportunity,
    pub user: UserRef,
}

/// Salesloft's ActivityHistory (field descriptions after Salesloft's own schema; `id` is
/// `{type}-{n}` as salesloft.md maps it, `resource_id` a string for crm_opportunity).
#[derive(ToSchema)]
#[schema(as = SalesloftActivityHistory)]
pub struct ActivityHistory {
    /// ID of this activity: `{type}-{n}`.
    #[schema(pattern = "^[a-z_]+-[0-9]+$")]
    pub id: String,
    /// The type of activity.
    #[schema(value_type = TypeName)]
    pub r#type: String,
    /// When this activity occurred (RFC 3339 UTC with microseconds, as every timestamp here).
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// When this record was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When this record was updated.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// When this record was pinned (null when it is not).
    #[schema(format = DateTime)]
    pub pinned_at: Option<String>,
    /// Type of the resource this activity is for.
    #[schema(value_type = ResourceTypeName)]
    pub resource_type: String,
    /// ID of the resource this activity is for; a string for crm_opportunity.
    #[schema(value_type = ResourceId)]
    pub resource_id: Value,
    /// UUID of the user this activity is for.
    pub user_guid: Uuid,
    pub tags: Vec<String>,
    /// The static data for this activity: natively given keys, then activity_event,
    /// activity_event_name, note, fields and status.
    pub static_data: BTreeMap<String, Value>,
    /// Attributes from associated records, as they are now.
    pub dynamic_data: DynamicData,
    /// A list of remote resource names that failed to load: `["person"]` when the activity's
    /// person was deleted.
    pub failed_dynamic_resources: Vec<String>,
}

/// `metadata.paging`; the counts only with `include_paging_counts=true`.
#[derive(ToSchema)]
#[schema(as = SalesloftPaging)]
pub struct Paging {
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u32,
    #[schema(minimum = 1)]
    pub current_page: u64,
    pub next_page: Option<u64>,
    pub prev_page: Option<u64>,
    #[schema(required = false, minimum = 0)]
    pub total_pages: u64,
    #[schema(required = false, minimum = 0)]
    pub total_count: u64,
}

/// Sort key.
#[derive(ToSchema)]
#[schema(as = SalesloftSortKey)]
#[allow(non_camel_case_types)]
pub enum SortKey {
    occurred_at,
    updated_at,
}

/// Sort direction.
#[derive(ToSchema)]
#[schema(as = SalesloftSortDirection)]
pub enum SortDirection {
    ASC,
    DESC,
}

/// `metadata.sorting`.
#[derive(ToSchema)]
#[schema(as = SalesloftSorting)]
pub struct Sorting {
    pub sort_by: SortKey,
    pub sort_direction: SortDirection,
}

/// `metadata`: the filters applied (as given), paging and sorting.
#[derive(ToSchema)]
#[schema(as = SalesloftMetadata)]
pub struct Metadata {
    pub filtering: BTreeMap<String, Value>,
    pub paging: Paging,
    pub sorting: Sorting,
}

/// List Past Activities' answer.
#[derive(ToSchema)]
#[schema(as = SalesloftActivityHistoryList)]
pub struct HistoryList {
    pub metadata: Metadata,
    pub data: Vec<ActivityHistory>,
}

/// Fetch a Past Activity's answer.
#[derive(ToSchema)]
#[schema(as = SalesloftActivityHistoryOne)]
pub struct HistoryOne {
    pub data: ActivityHistory,
}

/// `{"id": …}`.
#[derive(ToSchema)]
#[schema(as = SalesloftRoleRef)]
pub struct RoleRef {
    pub id: String,
}

/// `{"id": …}`.
#[derive(ToSchema)]
#[schema(as = SalesloftTeamRef)]
pub struct TeamRef {
    pub id: Uuid,
}

/// The token's user.
#[derive(ToSchema)]
#[schema(as = SalesloftMe)]
pub struct Me {
    pub id: i64,
    pub guid: Uuid,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub role: RoleRef,
    pub team: TeamRef,
    pub active: bool,
}

/// `GET /v2/me`'s answer.
#[derive(ToSchema)]
#[schema(as = SalesloftMeAnswer)]
pub struct MeAnswer {
    pub data: Me,
}

/// `{"id": n}`: a record this answer points at (`_href` left out, see `people::embedded`).
#[derive(ToSchema)]
#[schema(as = SalesloftEmbedded)]
pub struct Embedded {
    pub id: i64,
}

/// People's sort keys.
#[derive(ToSchema)]
#[schema(as = SalesloftPeopleSortKey)]
#[allow(non_camel_case_types)]
pub enum PeopleSortKey {
    updated_at,
    created_at,
}

/// Accounts' sort keys.
#[derive(ToSchema)]
#[schema(as = SalesloftAccountSortKey)]
#[allow(non_camel_case_types)]
pub enum AccountSortKey {
    updated_at,
    created_at,
    name,
}

/// Users' sort keys.
#[derive(ToSchema)]
#[schema(as = SalesloftUserSortKey)]
#[allow(non_camel_case_types)]
pub enum UserSortKey {
    id,
    email,
    created_at,
    updated_at,
}

/// A user's role.
#[derive(ToSchema)]
#[schema(as = SalesloftRoleName)]
#[allow(non_camel_case_types)]
pub enum RoleName {
    Administrator,
    Sales_Manager,
    Sales_User,
}

/// `metadata` of a people, accounts or users list (`sort_by` one of that list's keys).
#[derive(ToSchema)]
#[schema(as = SalesloftListMetadata)]
pub struct ListMetadata {
    pub filtering: BTreeMap<String, Value>,
    pub paging: Paging,
    pub sorting: ListSorting,
}

/// `metadata.sorting` of a people, accounts or users list.
#[derive(ToSchema)]
#[schema(as = SalesloftListSorting)]
pub struct ListSorting {
    pub sort_by: String,
    pub sort_direction: SortDirection,
}

/// Salesloft's Person, from a lead: the attributes the store keeps (name, email, phones,
/// opt-outs as do_not_contact and contact_restrictions, JobTitle as title, Company as
/// person_company_name, the other attributes as custom_fields, the owner); every other
/// attribute of Salesloft's schema is null (tags and cadences empty).
#[derive(ToSchema)]
#[schema(as = SalesloftPersonRecord)]
pub struct PersonRecord {
    pub id: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub last_contacted_at: Option<String>,
    pub last_replied_at: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The full name, else the email address.
    pub display_name: Option<String>,
    pub email_address: Option<String>,
    pub full_email_address: Option<String>,
    pub secondary_email_address: Option<String>,
    pub personal_email_address: Option<String>,
    pub phone: Option<String>,
    pub phone_extension: Option<String>,
    pub home_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub linkedin_url: Option<String>,
    pub title: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub work_city: Option<String>,
    pub work_state: Option<String>,
    pub work_country: Option<String>,
    pub crm_url: Option<String>,
    pub crm_id: Option<String>,
    pub crm_object_type: Option<String>,
    pub owner_crm_id: Option<String>,
    pub person_company_name: Option<String>,
    pub person_company_website: Option<String>,
    pub person_company_industry: Option<String>,
    /// Opted out of both calls and email.
    pub do_not_contact: bool,
    pub bouncing: Option<bool>,
    pub locale: Option<String>,
    pub locale_utc_offset: Option<i64>,
    pub eu_resident: Option<bool>,
    pub personal_website: Option<String>,
    pub twitter_handle: Option<String>,
    pub last_contacted_type: Option<String>,
    pub job_seniority: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub tags: Vec<String>,
    /// `call` and/or `email`: the lead's opt-outs.
    pub contact_restrictions: Vec<String>,
    pub success_count: Option<i64>,
    pub starred: Option<bool>,
    pub untouched: Option<bool>,
    pub counts: Option<BTreeMap<String, i64>>,
    pub account: Option<Embedded>,
    pub owner: Embedded,
    pub last_contacted_by: Option<Embedded>,
    pub import: Option<Embedded>,
    pub person_stage: Option<Embedded>,
    pub most_recent_cadence: Option<Embedded>,
    pub last_completed_step_cadence: Option<Embedded>,
    pub last_completed_step: Option<Embedded>,
    pub cadences: Vec<Embedded>,
}

/// Salesloft's Account: name, domain, owner and times; every other attribute null.
#[derive(ToSchema)]
#[schema(as = SalesloftAccountRecord)]
pub struct AccountRecord {
    pub id: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub archived_at: Option<String>,
    pub name: String,
    pub domain: Option<String>,
    pub conversational_name: Option<String>,
    pub description: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub linkedin_url: Option<String>,
    pub twitter_handle: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub locale: Option<String>,
    pub industry: Option<String>,
    pub company_type: Option<String>,
    pub founded: Option<String>,
    pub revenue_range: Option<String>,
    pub size: Option<String>,
    pub crm_id: Option<String>,
    pub crm_url: Option<String>,
    pub crm_object_type: Option<String>,
    pub owner_crm_id: Option<String>,
    pub last_contacted_at: Option<String>,
    pub last_contacted_type: Option<String>,
    pub do_not_contact: Option<bool>,
    pub custom_fields: BTreeMap<String, String>,
    pub user_relationships: Option<Vec<Value>>,
    pub tags: Vec<String>,
    pub counts: Option<BTreeMap<String, i64>>,
    pub owner: Embedded,
    pub creator: Option<Embedded>,
    pub last_contacted_by: Option<Embedded>,
    pub last_contacted_person: Option<Embedded>,
    pub company_stage: Option<Embedded>,
    pub account_tier: Option<Embedded>,
}

/// Salesloft's User: identity, name, email, active, role (its name as id), team (the tenant's
/// integer id), team_admin (an Administrator); every other attribute null.
#[derive(ToSchema)]
#[schema(as = SalesloftUserRecord)]
pub struct UserRecord {
    pub id: i64,
    pub guid: Uuid,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub job_role: Option<String>,
    pub active: bool,
    pub time_zone: Option<String>,
    pub slack_username: Option<String>,
    pub twitter_handle: Option<String>,
    pub email: String,
    pub email_client_email_address: Option<String>,
    pub sending_email_address: Option<String>,
    pub from_address: Option<String>,
    pub full_email_address: String,
    pub bcc_email_address: Option<String>,
    pub work_country: Option<String>,
    pub email_signature: Option<String>,
    pub email_signature_type: Option<String>,
    pub email_signature_click_tracking_disabled: Option<bool>,
    pub team_admin: bool,
    pub local_dial_enabled: Option<bool>,
    pub click_to_call_enabled: Option<bool>,
    pub email_client_configured: Option<bool>,
    pub crm_connected: Option<bool>,
    pub external_feature_flags: BTreeMap<String, Value>,
    pub _private_fields: BTreeMap<String, Value>,
    pub phone_client: Option<Embedded>,
    pub phone_number_assignment: Option<Embedded>,
    pub group: Option<Embedded>,
    pub team: Embedded,
    pub role: UserRole,
}

/// `{"id": role name}`.
#[derive(ToSchema)]
#[schema(as = SalesloftUserRole)]
pub struct UserRole {
    pub id: RoleName,
}

/// List people's answer.
#[derive(ToSchema)]
#[schema(as = SalesloftPersonList)]
pub struct PersonList {
    pub metadata: ListMetadata,
    pub data: Vec<PersonRecord>,
}

/// Fetch a person's answer.
#[derive(ToSchema)]
#[schema(as = SalesloftPersonOne)]
pub struct PersonOne {
    pub data: PersonRecord,
}

/// List accounts' answer.
#[derive(ToSchema)]
#[schema(as = SalesloftAccountList)]
pub struct AccountList {
    pub metadata: ListMetadata,
    pub data: Vec<AccountRecord>,
}

/// Fetch an account's answer.
#[derive(ToSchema)]
#[schema(as = SalesloftAccountOne)]
pub struct AccountOne {
    pub data: AccountRecord,
}

/// List users' answer.
#[derive(ToSchema)]
#[schema(as = SalesloftUserList)]
pub struct UserList {
    pub metadata: ListMetadata,
    pub data: Vec<UserRecord>,
}

/// Fetch a user's answer.
#[derive(ToSchema)]
#[schema(as = SalesloftUserOne)]
pub struct UserOne {
    pub data: UserRecord,
}
