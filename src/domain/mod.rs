//! The records activity-hub keeps, independent of storage and wire formats.

pub mod directory;
pub mod fields;
pub mod history;
pub mod rate;
pub mod rules;
pub mod text;
pub mod time;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::time::Micros;

/// What a user may see and do. Sales_User sees only the leads it owns (and their activities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Administrator,
    SalesManager,
    SalesUser,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::SalesManager => "Sales_Manager",
            Role::SalesUser => "Sales_User",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "Administrator" => Some(Role::Administrator),
            "Sales_Manager" => Some(Role::SalesManager),
            "Sales_User" => Some(Role::SalesUser),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: i64,
    pub guid: Uuid,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub guid: Uuid,
    pub tenant_id: i64,
    pub tenant_guid: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub active: bool,
}

impl User {
    pub fn full_name(&self) -> String {
        join_name(&self.first_name, &self.last_name)
    }

    /// Whether this user may read and write records of a lead owned by `owner_id`.
    pub fn can_see_lead_of(&self, owner_id: i64) -> bool {
        lead_visible(self.only_leads_of(), owner_id)
    }

    /// The one owner whose leads this user may see, when it is limited to one: a Sales_User
    /// sees its own leads only.
    pub fn only_leads_of(&self) -> Option<i64> {
        (self.role == Role::SalesUser).then_some(self.id)
    }

    /// This user acting through `api` (who and which API a change record names).
    pub fn actor(&self, api: history::Api) -> history::Actor {
        history::Actor {
            user_id: self.id,
            api,
        }
    }
}

/// Whether a lead owned by `owner_id` is visible to a caller limited to the leads of `owner_only`
/// (`User::only_leads_of`): the one rule the service and the stores apply.
pub fn lead_visible(owner_only: Option<i64>, owner_id: i64) -> bool {
    owner_only.is_none_or(|only| only == owner_id)
}

pub fn join_name(first: &str, last: &str) -> String {
    name_parts(first, last).concat()
}

/// The pieces `join_name` joins, for writers that write them in turn instead of allocating.
pub fn name_parts<'a>(first: &'a str, last: &'a str) -> [&'a str; 3] {
    match (first.is_empty(), last.is_empty()) {
        (false, false) => [first, " ", last],
        _ => [first, "", last],
    }
}

/// A new user with the digests of its freshly generated keys.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub guid: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub access_key_digest: [u8; 32],
    pub secret_key_digest: [u8; 32],
    pub api_key_digest: [u8; 32],
}

/// A lead (LeadSquared's "prospect", Salesloft's "person").
#[derive(Debug, Clone)]
pub struct Lead {
    pub id: i64,
    pub guid: Uuid,
    pub tenant_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub do_not_call: bool,
    pub do_not_email: bool,
    pub owner_id: i64,
    pub owner_guid: Uuid,
    pub owner_name: String,
    pub score: i64,
    pub engagement_score: i64,
    /// Other attributes (`mx_…` custom fields, Source, Company…), as strings.
    pub attributes: BTreeMap<String, String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

#[derive(Debug, Clone, Default)]
pub struct NewLead {
    pub guid: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub do_not_call: bool,
    pub do_not_email: bool,
    pub owner_id: i64,
    pub attributes: BTreeMap<String, String>,
}

/// A change to a lead: each `Some` replaces a value (an inner `None` clears it); attributes are
/// merged into the lead's (a `None` value removes that attribute). Applied by the store inside
/// its write transaction, so two concurrent changes of different fields both land.
#[derive(Debug, Clone, Default)]
pub struct LeadPatch {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub do_not_call: Option<bool>,
    pub do_not_email: Option<bool>,
    pub owner_id: Option<i64>,
    pub attributes: BTreeMap<String, Option<String>>,
}

impl LeadPatch {
    /// The lead's values with this change applied.
    pub fn apply(&self, lead: &Lead) -> NewLead {
        let pick = |new: &Option<Option<String>>, old: &Option<String>| match new {
            Some(v) => v.clone(),
            None => old.clone(),
        };
        let mut attributes = lead.attributes.clone();
        for (k, v) in &self.attributes {
            match v {
                Some(v) => attributes.insert(k.clone(), v.clone()),
                None => attributes.remove(k),
            };
        }
        NewLead {
            guid: lead.guid,
            first_name: pick(&self.first_name, &lead.first_name),
            last_name: pick(&self.last_name, &lead.last_name),
            email: pick(&self.email, &lead.email),
            phone: pick(&self.phone, &lead.phone),
            mobile: pick(&self.mobile, &lead.mobile),
            do_not_call: self.do_not_call.unwrap_or(lead.do_not_call),
            do_not_email: self.do_not_email.unwrap_or(lead.do_not_email),
            owner_id: self.owner_id.unwrap_or(lead.owner_id),
            attributes,
        }
    }

    /// The values this change sets, as a new lead (for the checks a new lead's values pass).
    pub fn given(&self) -> NewLead {
        let set = |v: &Option<Option<String>>| v.clone().flatten();
        NewLead {
            first_name: set(&self.first_name),
            last_name: set(&self.last_name),
            email: set(&self.email),
            phone: set(&self.phone),
            mobile: set(&self.mobile),
            attributes: self
                .attributes
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect(),
            ..NewLead::default()
        }
    }
}

impl NewLead {
    /// Whether the lead has one of the values that identify a lead (first or last name, email,
    /// phone); LeadSquared refuses a lead with none.
    pub fn has_identity(&self) -> bool {
        self.first_name.is_some()
            || self.last_name.is_some()
            || self.email.is_some()
            || self.phone.is_some()
    }
}

/// The data type of a custom field; the names are LeadSquared's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataType {
    String,
    Number,
    Date,
    DateTime,
    Boolean,
    Dropdown,
    SearchableDropdown,
    MultiSelect,
    Email,
    Phone,
    Website,
    LargeOptionSet,
    Text,
}

impl DataType {
    pub const ALL: [DataType; 13] = [
        DataType::String,
        DataType::Number,
        DataType::Date,
        DataType::DateTime,
        DataType::Boolean,
        DataType::Dropdown,
        DataType::SearchableDropdown,
        DataType::MultiSelect,
        DataType::Email,
        DataType::Phone,
        DataType::Website,
        DataType::LargeOptionSet,
        DataType::Text,
    ];

    pub fn parse(s: &str) -> Option<DataType> {
        DataType::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::String => "String",
            DataType::Number => "Number",
            DataType::Date => "Date",
            DataType::DateTime => "DateTime",
            DataType::Boolean => "Boolean",
            DataType::Dropdown => "Dropdown",
            DataType::SearchableDropdown => "SearchableDropdown",
            DataType::MultiSelect => "MultiSelect",
            DataType::Email => "Email",
            DataType::Phone => "Phone",
            DataType::Website => "Website",
            DataType::LargeOptionSet => "LargeOptionSet",
            DataType::Text => "Text",
        }
    }

    pub fn has_options(self) -> bool {
        matches!(
            self,
            DataType::Dropdown
                | DataType::SearchableDropdown
                | DataType::MultiSelect
                | DataType::LargeOptionSet
        )
    }
}

/// A custom field of an activity type (`mx_Custom_N`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub schema_name: String,
    pub display_name: String,
    pub data_type: DataType,
    pub is_mandatory: bool,
    pub sequence: i64,
    pub options: Vec<String>,
}

/// Whether a type describes plain activities, the built-in per-Salesloft-type ones, or opportunities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    System,
    Custom,
    Opportunity,
}

impl TypeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TypeKind::System => "system",
            TypeKind::Custom => "custom",
            TypeKind::Opportunity => "opportunity",
        }
    }

    pub fn parse(s: &str) -> Option<TypeKind> {
        match s {
            "system" => Some(TypeKind::System),
            "custom" => Some(TypeKind::Custom),
            "opportunity" => Some(TypeKind::Opportunity),
            _ => None,
        }
    }

    /// LeadSquared's `ActivityType` / `EventType` number: 1 for system types, 2 for custom ones.
    pub fn lsq_number(self) -> i64 {
        match self {
            TypeKind::System => 1,
            TypeKind::Custom | TypeKind::Opportunity => 2,
        }
    }
}

/// First event code given to custom types, and the first code of opportunity types.
pub const FIRST_CUSTOM_CODE: i64 = 201;
pub const FIRST_OPPORTUNITY_CODE: i64 = 12000;

#[derive(Debug, Clone)]
pub struct ActivityType {
    pub id: i64,
    pub guid: Uuid,
    pub event_code: i64,
    pub name: String,
    pub display_name: String,
    pub score: i64,
    pub description: String,
    /// 0 inbound, 1 outbound.
    pub direction: i64,
    pub kind: TypeKind,
    pub is_email_type: bool,
    pub salesloft_type: String,
    pub fields: Vec<FieldDef>,
}

impl ActivityType {
    pub fn field(&self, schema_name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.schema_name.eq_ignore_ascii_case(schema_name))
    }
}

/// An activity type to create; `event_code: None` takes the next free custom code.
#[derive(Debug, Clone)]
pub struct NewActivityType {
    pub guid: Uuid,
    pub event_code: Option<i64>,
    pub name: String,
    pub display_name: String,
    pub score: i64,
    pub description: String,
    pub direction: i64,
    pub kind: TypeKind,
    pub is_email_type: bool,
    pub salesloft_type: String,
    pub fields: Vec<FieldDef>,
}

/// The 25 Salesloft activity types, in the order of Salesloft's List Past Activities documentation.
pub const SALESLOFT_TYPES: [&str; 25] = [
    "added_to_cadence",
    "account_added_to_cadence",
    "call",
    "completed_action",
    "dnc_event",
    "email_reply",
    "external_meeting",
    "live_chat",
    "meeting",
    "meeting_held",
    "message_conversation",
    "note",
    "opportunity_amount_change",
    "opportunity_close_date_change",
    "opportunity_stage_change",
    "received_email",
    "requested_email",
    "residency_change",
    "sent_email",
    "site_visit",
    "share_internal_note",
    "success",
    "task",
    "voicemail",
    "review",
];

pub fn is_salesloft_type(s: &str) -> bool {
    SALESLOFT_TYPES.contains(&s)
}

/// The activity types every new tenant starts with: one system type per Salesloft type (codes
/// 101–125, the common ones first) and the opportunity type 12000.
pub fn starter_types() -> Vec<NewActivityType> {
    let first = ["call", "meeting", "sent_email", "received_email", "note"];
    let order = first.iter().copied().chain(
        SALESLOFT_TYPES
            .iter()
            .copied()
            .filter(|t| !first.contains(t)),
    );
    let mut types: Vec<NewActivityType> = order
        .enumerate()
        .map(|(i, sl)| {
            let display = sl
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    match c.next() {
                        Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                        None => String::new(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            NewActivityType {
                guid: Uuid::now_v7(),
                event_code: Some(101 + i as i64),
                name: display.clone(),
                display_name: display,
                score: 0,
                description: format!("System activity type for Salesloft '{sl}' activities"),
                direction: if matches!(
                    sl,
                    "received_email" | "email_reply" | "site_visit" | "live_chat"
                ) {
                    0
                } else {
                    1
                },
                kind: TypeKind::System,
                is_email_type: matches!(
                    sl,
                    "sent_email" | "received_email" | "email_reply" | "requested_email"
                ),
                salesloft_type: sl.to_string(),
                fields: Vec::new(),
            }
        })
        .collect();
    types.push(NewActivityType {
        guid: Uuid::now_v7(),
        event_code: Some(FIRST_OPPORTUNITY_CODE),
        name: "Opportunity".into(),
        display_name: "Opportunity".into(),
        score: 0,
        description: "Default opportunity type".into(),
        direction: 0,
        kind: TypeKind::Opportunity,
        is_email_type: false,
        salesloft_type: "opportunity_stage_change".into(),
        fields: Vec::new(),
    });
    types
}

/// An activity to store. Timestamps other than `occurred_at` are assigned by the store's per-tenant
/// clock so that `created_at`/`updated_at` are unique and strictly increasing within a tenant.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub guid: Uuid,
    pub type_id: i64,
    /// The lead (for an activity on an opportunity: the opportunity's lead); `None` on an account.
    pub lead_id: Option<i64>,
    /// Set for an activity on an account (then `lead_id` is `None`).
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    pub owner_id: i64,
    pub created_by: i64,
    pub note: String,
    pub occurred_at: Micros,
    pub score: i64,
    pub status: String,
    pub fields: BTreeMap<String, String>,
    /// Salesloft-style attributes set through the native API (LSQ posts leave them empty).
    pub pinned: bool,
    pub tags: Vec<String>,
    pub static_data: serde_json::Map<String, serde_json::Value>,
}

/// The Salesloft resource an activity is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// A lead; resource id is the lead's integer id.
    Person,
    /// An account; resource id is the account's integer id.
    Account,
    /// An opportunity; resource id is the opportunity's GUID (its own activity row's GUID).
    Opportunity,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 3] = [
        ResourceKind::Person,
        ResourceKind::Account,
        ResourceKind::Opportunity,
    ];

    /// The Salesloft name, also what the store keeps in `activities.res_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Person => "person",
            ResourceKind::Account => "account",
            ResourceKind::Opportunity => "crm_opportunity",
        }
    }

    pub fn parse(s: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A company (Salesloft's "account"); activities can be logged on it through the native API.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub guid: Uuid,
    pub name: String,
    pub domain: Option<String>,
    pub owner_id: i64,
    pub owner_guid: Uuid,
    pub created_at: Micros,
    pub updated_at: Micros,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub guid: Uuid,
    pub name: String,
    pub domain: Option<String>,
    pub owner_id: i64,
}

/// A stored activity with the attributes of its type, lead and users that every dialect renders.
#[derive(Debug, Clone)]
pub struct ActivityView {
    pub id: i64,
    pub guid: Uuid,
    pub type_id: i64,
    pub event_code: i64,
    pub type_name: String,
    pub type_display_name: String,
    pub type_kind: TypeKind,
    pub direction: i64,
    pub is_email_type: bool,
    pub salesloft_type: String,
    /// `None` for an activity on an account.
    pub lead_id: Option<i64>,
    pub lead_guid: Option<Uuid>,
    pub lead_owner_id: Option<i64>,
    pub lead_first_name: Option<String>,
    pub lead_last_name: Option<String>,
    pub lead_email: Option<String>,
    /// The lead was deleted (soft): Salesloft shows it as a failed dynamic resource.
    pub lead_deleted: bool,
    pub account_id: Option<i64>,
    pub account_name: Option<String>,
    pub opportunity_id: Option<i64>,
    /// Where Salesloft attributes the activity, and the resource's integer id (for an opportunity:
    /// the id of its own activity row, whose GUID is `resource_guid`).
    pub resource_kind: ResourceKind,
    pub resource_id: i64,
    /// The opportunity's GUID, name and status when `resource_kind` is `Opportunity`.
    pub resource_guid: Option<Uuid>,
    pub opportunity_name: Option<String>,
    pub opportunity_status: Option<String>,
    pub owner_id: i64,
    pub owner_guid: Uuid,
    pub owner_name: String,
    pub created_by_name: String,
    pub modified_by_name: String,
    pub note: String,
    pub occurred_at: Micros,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub score: i64,
    pub status: String,
    pub fields: fields::FieldValues,
    pub pinned_at: Option<Micros>,
    pub tags: Vec<String>,
    pub static_data: serde_json::Map<String, serde_json::Value>,
}

impl ActivityView {
    /// Whether `user` may see this activity: a Sales_User only sees activities on its own leads.
    pub fn visible_to(&self, user: &User) -> bool {
        match self.lead_owner_id {
            Some(owner) => user.can_see_lead_of(owner),
            None => user.role != Role::SalesUser,
        }
    }
}

/// A change to an existing activity; `None` leaves the attribute as it is. Every update moves the
/// activity's `updated_at` forward on the tenant clock.
#[derive(Debug, Clone, Default)]
pub struct ActivityUpdate {
    pub id: i64,
    pub note: Option<String>,
    pub owner_id: Option<i64>,
    pub status: Option<String>,
    /// The complete new set of custom values (already merged with the stored ones).
    pub fields: Option<BTreeMap<String, String>>,
    pub occurred_at: Option<Micros>,
    /// `Some(true)` pins (keeping an earlier pin time), `Some(false)` unpins.
    pub pinned: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub static_data: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The order of an activity list. Every order is completed by the activity's integer id in the same
/// direction, so pages never repeat or skip rows. Sorting happens in the store (ORDER BY … LIMIT),
/// never by loading a whole list into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivitySort {
    /// `occurred_at` (LeadSquared's CreatedOn / ActivityDateTime).
    OccurredAt,
    /// `updated_at` (ModifiedOn).
    UpdatedAt,
    EventCode,
    Score,
    Note,
    Status,
    CreatedByName,
    Guid,
    /// The activity's own id only (used when the requested column is the same for every row).
    Id,
    /// A custom field value; `numeric` compares as numbers instead of text.
    Field {
        schema_name: String,
        numeric: bool,
    },
}

/// Which records of the activity table a query returns: opportunities are stored as activities
/// of opportunity types (codes from `FIRST_OPPORTUNITY_CODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordKind {
    /// Activities and opportunities alike.
    #[default]
    Any,
    /// Only activities (event codes below `FIRST_OPPORTUNITY_CODE`).
    Activities,
    /// Only opportunity records.
    Opportunities,
}

/// How `list_activities` counts the matching rows besides returning the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountMode {
    /// No count (`Page::total` is 0): the cheapest, for clients that page by `next_page`.
    None,
    /// The exact number of matching rows.
    #[default]
    Exact,
    /// The number of matching rows, but counting stops after this many (Salesloft's
    /// `limit_paging_counts`): bounded work however large the tenant.
    Capped(u64),
}

/// One alternative of a type filter: these Salesloft types, optionally only on one resource kind
/// (Salesloft's `type[person][]=call`). Alternatives are OR-ed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeFilter {
    pub resource: Option<ResourceKind>,
    pub sl_types: Vec<String>,
}

/// An activity id as Salesloft names it (`call-12`): the integer id and, when given, the type the
/// client expects it to have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityIdFilter {
    pub id: i64,
    pub sl_type: Option<String>,
}

/// The one query both dialects list activities with; each filter maps to an index. Empty vectors
/// and `None` mean "no filter"; time bounds are inclusive (Salesloft's `gt x` becomes `>= x + 1µs`).
#[derive(Debug, Clone)]
pub struct ActivityQuery {
    pub tenant_id: i64,
    pub lead_id: Option<i64>,
    /// Activities logged on this opportunity (the opportunity record's integer id).
    pub opportunity_id: Option<i64>,
    pub records: RecordKind,
    pub event_codes: Vec<i64>,
    pub occurred_from: Option<Micros>,
    pub occurred_to: Option<Micros>,
    pub updated_from: Option<Micros>,
    pub updated_to: Option<Micros>,
    /// Salesloft type filter: OR-ed alternatives; empty means any type.
    pub types: Vec<TypeFilter>,
    pub resource_kinds: Vec<ResourceKind>,
    /// (kind, resource integer id) pairs; empty means any resource.
    pub resources: Vec<(ResourceKind, i64)>,
    pub ids: Vec<ActivityIdFilter>,
    /// Owning users; empty means any owner.
    pub owner_ids: Vec<i64>,
    pub pinned: Option<bool>,
    /// Visibility: only activities on leads owned by this user (a Sales_User's view).
    pub visible_to_owner: Option<i64>,
    /// Set when a filter can match nothing (e.g. only unknown user GUIDs): no rows, count 0.
    pub match_nothing: bool,
    pub sort: ActivitySort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
    pub count: CountMode,
}

impl ActivityQuery {
    /// A query over one tenant with no filters, newest first, 25 rows.
    pub fn new(tenant_id: i64) -> ActivityQuery {
        ActivityQuery {
            tenant_id,
            lead_id: None,
            opportunity_id: None,
            records: RecordKind::Any,
            event_codes: Vec::new(),
            occurred_from: None,
            occurred_to: None,
            updated_from: None,
            updated_to: None,
            types: Vec::new(),
            resource_kinds: Vec::new(),
            resources: Vec::new(),
            ids: Vec::new(),
            owner_ids: Vec::new(),
            pinned: None,
            visible_to_owner: None,
            match_nothing: false,
            sort: ActivitySort::OccurredAt,
            descending: true,
            offset: 0,
            limit: 25,
            count: CountMode::Exact,
        }
    }
}

/// The unique lead attributes a lead can be found by (`SearchBy` of Capture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadKey {
    Email,
    Phone,
    Mobile,
}

impl LeadKey {
    /// The attribute's LeadSquared name (`SearchBy` values, error messages).
    pub fn lsq_name(self) -> &'static str {
        match self {
            LeadKey::Email => "EmailAddress",
            LeadKey::Phone => "Phone",
            LeadKey::Mobile => "Mobile",
        }
    }

    /// The attribute's native API name.
    pub fn native_name(self) -> &'static str {
        match self {
            LeadKey::Email => "email",
            LeadKey::Phone => "phone",
            LeadKey::Mobile => "mobile",
        }
    }
}

/// Which of a lead's stored dates a lead list selects or orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadDate {
    Created,
    Modified,
}

/// What a lead list selects besides the tenant: each one an index range of the leads table
/// (`leads_tenant_owner`, `leads_tenant_created`, `leads_tenant_modified`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadFilter {
    /// The leads this user owns.
    Owner(i64),
    /// The leads whose date is in `[from, until)` (either end open when `None`).
    Dated {
        date: LeadDate,
        from: Option<Micros>,
        until: Option<Micros>,
    },
}

/// The order of a lead list: by a date (then id), or by id alone (`ProspectAutoId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadOrder {
    Date(LeadDate),
    Id,
}

/// One page of a tenant's live leads (LeadSquared's `Leads.Get`).
#[derive(Debug, Clone)]
pub struct LeadQuery {
    pub tenant_id: i64,
    pub filter: LeadFilter,
    /// Only the leads of this owner (a Sales_User's view) when set.
    pub owner_only: Option<i64>,
    pub order: LeadOrder,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The number of matching rows per `ActivityQuery::count` (0 with `CountMode::None`, at most
    /// the cap with `CountMode::Capped`).
    pub total: u64,
    pub rows: Vec<T>,
}
