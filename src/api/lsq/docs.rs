//! Documentation types of the LeadSquared answers: each describes, for `/openapi.json`, exactly the
//! JSON a handler writes (with `json!` or the page writer), and tests/openapi checks real answers
//! against them. They are never built: the handlers write the JSON themselves.

#![allow(dead_code, non_snake_case, non_camel_case_types)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// `"Success"`, the `Status` of every successful write.
#[derive(ToSchema)]
#[schema(as = LsqSuccessStatus)]
pub enum SuccessStatus {
    Success,
}

/// `"Error"`, the `Status` of every error envelope.
#[derive(ToSchema)]
#[schema(as = LsqErrorStatus)]
pub enum ErrorStatus {
    Error,
}

/// LeadSquared's error envelope. `ExceptionType` names the class of error (e.g.
/// `MXInvalidInputException`, `MXUnAuthorizedException`, `MXInvalidEntityException`,
/// `MXMandatoryAttributeMissingException`, `MXAPIRateLimitExceededException`); `ExceptionMessage`
/// names the field and the problem.
#[derive(ToSchema)]
#[schema(as = LsqError)]
pub struct ErrorBody {
    pub Status: ErrorStatus,
    #[schema(pattern = "^MX[A-Za-z]+Exception$")]
    pub ExceptionType: String,
    pub ExceptionMessage: String,
}

/// `Message` of a write answered with the record's GUID.
#[derive(ToSchema)]
#[schema(as = LsqIdMessage)]
pub struct IdMessage {
    pub Id: Uuid,
}

/// `{"Status":"Success","Message":{"Id":"…"}}`
#[derive(ToSchema)]
#[schema(as = LsqIdAnswer)]
pub struct IdAnswer {
    pub Status: SuccessStatus,
    pub Message: IdMessage,
}

/// `Message` of ProspectActivity.svc/Create; `LeadScore` only when `IncludeLeadScore` was true.
#[derive(ToSchema)]
#[schema(as = LsqCreatedActivityMessage)]
pub struct CreatedActivityMessage {
    pub Id: Uuid,
    /// The lead's score after this activity.
    #[schema(required = false)]
    pub LeadScore: i64,
}

/// ProspectActivity.svc/Create's answer.
#[derive(ToSchema)]
#[schema(as = LsqCreatedActivity)]
pub struct CreatedActivity {
    pub Status: SuccessStatus,
    pub Message: CreatedActivityMessage,
}

/// `Message` of CreateType: the new type's event code.
#[derive(ToSchema)]
#[schema(as = LsqCreatedTypeMessage)]
pub struct CreatedTypeMessage {
    pub Id: i64,
}

/// CreateType's answer.
#[derive(ToSchema)]
#[schema(as = LsqCreatedType)]
pub struct CreatedType {
    pub Status: SuccessStatus,
    pub Message: CreatedTypeMessage,
}

/// `{"Status":"Success"}` (CustomActivityType/Update).
#[derive(ToSchema)]
#[schema(as = LsqSuccess)]
pub struct Success {
    pub Status: SuccessStatus,
}

/// `Message` of Capture: the opportunity (twice, as LeadSquared names it both ways) and its lead.
#[derive(ToSchema)]
#[schema(as = LsqCapturedMessage)]
pub struct CapturedMessage {
    pub Id: Uuid,
    pub RelatedId: Uuid,
    pub CreatedOpportunityId: Uuid,
}

/// Capture's answer.
#[derive(ToSchema)]
#[schema(as = LsqCaptured)]
pub struct Captured {
    pub Status: SuccessStatus,
    pub Message: CapturedMessage,
}

/// One `{"Key","Value"}` pair of a Retrieve row's `Data`.
#[derive(ToSchema)]
#[schema(as = LsqKeyValue)]
pub struct KeyValue {
    pub Key: String,
    pub Value: String,
}

/// Direction of an activity in Retrieve.
#[derive(ToSchema)]
#[schema(as = LsqDirection)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// One activity of Retrieve, in the shape of LeadSquared's documented example.
#[derive(ToSchema)]
#[schema(as = LsqRetrievedActivity)]
pub struct RetrievedActivity {
    pub Id: Uuid,
    pub EventCode: i64,
    pub EventName: String,
    pub ActivityScore: i64,
    /// When the activity happened, `yyyy-MM-dd HH:mm:ss` UTC.
    pub CreatedOn: String,
    /// 1 system type, 2 custom type.
    #[schema(minimum = 1, maximum = 2)]
    pub ActivityType: i64,
    pub IsEmailType: bool,
    pub Type: Direction,
    pub SessionId: Uuid,
    pub TrackLocation: i64,
    pub Latitude: i64,
    pub Longitude: i64,
    pub RelatedProspectId: Option<Uuid>,
    /// CreatedByName, EventName, NotableEventDescription and HasAttachments.
    pub Data: Vec<KeyValue>,
    /// The custom field values by schema name, plus the system fields `Status` and `Owner`.
    pub ActivityFields: BTreeMap<String, Value>,
    pub ModifiedOn: String,
}

/// Retrieve's answer: the total of matching activities and one page of them.
#[derive(ToSchema)]
#[schema(as = LsqRetrieved)]
pub struct Retrieved {
    #[schema(minimum = 0)]
    pub RecordCount: u64,
    pub ProspectActivities: Vec<RetrievedActivity>,
}

/// A field of a type's setting (and, with `Value`, of a record's details). The system fields
/// Status, Owner and ActivityEvent_Note carry no IsMandatory/Sequence/OptionSet.
#[derive(ToSchema)]
#[schema(as = LsqFieldInfo)]
pub struct FieldInfo {
    pub SchemaName: String,
    pub DisplayName: String,
    /// String, Number, Date, DateTime, Boolean, Dropdown, SearchableDropdown, MultiSelect or Email.
    pub DataType: String,
    #[schema(required = false)]
    pub IsMandatory: bool,
    #[schema(required = false)]
    pub Sequence: i64,
    /// The options as a JSON array serialised into a string (`[{"Value","Text"}]`), or empty.
    #[schema(required = false)]
    pub OptionSet: String,
    /// The record's value (details endpoints only).
    #[schema(required = false)]
    pub Value: String,
}

/// GetActivityDetails' answer.
#[derive(ToSchema)]
#[schema(as = LsqActivityDetails)]
pub struct ActivityDetails {
    pub ID: Uuid,
    pub ProspectActivityId: Uuid,
    pub RelatedProspectId: Option<Uuid>,
    pub ActivityEvent: i64,
    pub Name: String,
    pub DisplayName: String,
    pub ActivityNote: String,
    pub CreatedOn: String,
    pub ModifiedOn: String,
    pub CreatedByName: String,
    pub ModifiedByName: String,
    pub Fields: Vec<FieldInfo>,
}

/// One activity type of ActivityTypes.Get.
#[derive(ToSchema)]
#[schema(as = LsqActivityType)]
pub struct ActivityTypeRow {
    pub ActivityEvent: i64,
    pub ActivityEventName: String,
    pub DisplayName: String,
    pub Score: i64,
    /// 0 inbound, 1 outbound.
    pub Direction: i64,
    /// 1 system type, 2 custom type.
    #[schema(minimum = 1, maximum = 2)]
    pub EventType: i64,
    pub Description: String,
    pub IsEmailType: bool,
    pub Id: Uuid,
    /// The Salesloft activity type this type's activities show as.
    pub SalesloftType: String,
}

/// GetActivitySetting's answer: the type, its code again as `ID`, its name and field metadata.
#[derive(ToSchema)]
#[schema(as = LsqActivitySetting)]
pub struct ActivitySetting {
    pub ActivityEvent: i64,
    pub ActivityEventName: String,
    pub DisplayName: String,
    pub Score: i64,
    pub Direction: i64,
    #[schema(minimum = 1, maximum = 2)]
    pub EventType: i64,
    pub Description: String,
    pub IsEmailType: bool,
    pub Id: Uuid,
    pub SalesloftType: String,
    pub ID: i64,
    pub Name: String,
    pub Fields: Vec<FieldInfo>,
}

/// `"1"` or `"0"`.
#[derive(ToSchema)]
#[schema(as = LsqFlag)]
pub enum Flag {
    #[schema(rename = "0")]
    No,
    #[schema(rename = "1")]
    Yes,
}

/// A lead as Leads.GetById shows it: every value a string or null; custom attributes (`mx_…`,
/// Source, Company, JobTitle) follow as further string properties.
#[derive(ToSchema)]
#[schema(as = LsqLead)]
pub struct LeadRow {
    pub ProspectID: Uuid,
    pub FirstName: Option<String>,
    pub LastName: Option<String>,
    pub EmailAddress: Option<String>,
    pub Phone: Option<String>,
    pub Mobile: Option<String>,
    pub DoNotCall: Flag,
    pub DoNotEmail: Flag,
    pub OwnerId: Uuid,
    pub OwnerIdName: String,
    #[schema(pattern = "^-?[0-9]+$")]
    pub Score: String,
    #[schema(pattern = "^-?[0-9]+$")]
    pub EngagementScore: String,
    pub CreatedOn: String,
    pub ModifiedOn: String,
}

/// A lead as Leads.Get shows it: the columns `Include_CSV` names (every column of `LsqLead`
/// when it names none), each a string or null.
#[derive(ToSchema)]
#[schema(as = LsqLeadColumns)]
pub struct LeadColumns(pub std::collections::BTreeMap<String, Option<String>>);

/// A user role.
#[derive(ToSchema)]
#[schema(as = LsqRole)]
pub enum Role {
    Administrator,
    Sales_Manager,
    Sales_User,
}

/// A user as the UserManagement calls show it (`StatusCode` 0 active, 1 inactive).
#[derive(ToSchema)]
#[schema(as = LsqUser)]
pub struct UserRow {
    pub ID: Uuid,
    pub UserId: Uuid,
    pub FirstName: String,
    pub LastName: String,
    pub EmailAddress: String,
    pub Role: Role,
    #[schema(minimum = 0, maximum = 1)]
    pub StatusCode: i64,
}

/// Where the caller's API and app are: this server's own `Host`.
#[derive(ToSchema)]
#[schema(as = LsqServiceUrls)]
pub struct ServiceUrls {
    pub api: String,
    pub app: String,
}

/// UserByAccessKey.Get's answer: the caller.
#[derive(ToSchema)]
#[schema(as = LsqCaller)]
pub struct Caller {
    pub Id: Uuid,
    pub Name: String,
    pub FirstName: String,
    pub LastName: String,
    pub EmailAddress: String,
    pub Role: Role,
    pub OrgId: Uuid,
    pub TimeZone: String,
    pub LSQCommonServiceURLs: ServiceUrls,
}

/// GetOpportunityDetails' answer.
#[derive(ToSchema)]
#[schema(as = LsqOpportunityDetails)]
pub struct OpportunityDetails {
    pub ID: Uuid,
    pub OpportunityId: Uuid,
    pub Name: String,
    pub DisplayName: String,
    pub OpportunityEventCode: i64,
    pub ProspectId: Uuid,
    pub CreatedOn: String,
    pub ModifiedOn: String,
    pub Fields: Vec<FieldInfo>,
}

/// The flat lists (GetActivitiesOfOpportunity, GetOpportunitiesOfLead): the total and one page of
/// rows, each a flat object of string-or-null columns (lead columns, the activity's columns and
/// custom fields, `Total`, and the opportunity's `O_` columns).
#[derive(ToSchema)]
#[schema(as = LsqFlatPage)]
pub struct FlatPage {
    #[schema(minimum = 0)]
    pub RecordCount: u64,
    pub List: Vec<BTreeMap<String, Option<String>>>,
}

/// One row of a bulk answer, in request order (`RowNumber` from 1).
#[derive(ToSchema)]
#[schema(as = LsqBulkRow)]
pub struct BulkRow {
    pub ProspectActivityId: Option<Uuid>,
    #[schema(minimum = 1)]
    pub RowNumber: u64,
    pub ActivityCreated: bool,
    /// Why the row was not created (absent when it was).
    #[schema(required = false)]
    pub ExceptionMessage: String,
}

/// The bulk calls' answer: one row per activity sent.
#[derive(ToSchema)]
#[schema(as = LsqBulkAnswer)]
pub struct BulkAnswer {
    pub Response: Vec<BulkRow>,
}

/// `Message` of Lead.Update.
#[derive(ToSchema)]
#[schema(as = LsqAffectedMessage)]
pub struct AffectedMessage {
    pub AffectedRows: i64,
}

/// Lead.Update's answer: `{"Status":"Success","Message":{"AffectedRows":1}}`.
#[derive(ToSchema)]
#[schema(as = LsqLeadUpdated)]
pub struct LeadUpdated {
    pub Status: SuccessStatus,
    pub Message: AffectedMessage,
}

/// `Message` of Lead.CreateOrUpdate; `Lead` only with `postUpdatedLead=true`.
#[derive(ToSchema)]
#[schema(as = LsqUpsertMessage)]
pub struct UpsertMessage {
    pub Id: Uuid,
    pub AffectedRows: i64,
    #[schema(required = false)]
    pub Lead: LeadRow,
}

/// `Message` of CreateCustom: the activity posted and the lead it went on.
#[derive(ToSchema)]
#[schema(as = LsqCreatedCustomMessage)]
pub struct CreatedCustomMessage {
    pub Id: Uuid,
    pub RelatedId: Uuid,
}

/// CreateCustom's answer.
#[derive(ToSchema)]
#[schema(as = LsqCreatedCustom)]
pub struct CreatedCustom {
    pub Status: SuccessStatus,
    pub Message: CreatedCustomMessage,
}

/// `Message` of DeleteActivities: LeadSquared's text and how many activities were deleted.
#[derive(ToSchema)]
#[schema(as = LsqDeletedActivitiesMessage)]
pub struct DeletedActivitiesMessage {
    pub Message: String,
    pub AffectedRows: i64,
}

/// DeleteActivities' answer.
#[derive(ToSchema)]
#[schema(as = LsqDeletedActivities)]
pub struct DeletedActivities {
    pub Status: SuccessStatus,
    pub Message: DeletedActivitiesMessage,
}

/// Lead.CreateOrUpdate's answer.
#[derive(ToSchema)]
#[schema(as = LsqLeadUpserted)]
pub struct LeadUpserted {
    pub Status: SuccessStatus,
    pub Message: UpsertMessage,
}

/// `Message` of Lead.Capture: the lead, whether it was created, and no related record.
#[derive(ToSchema)]
#[schema(as = LsqLeadCaptureMessage)]
pub struct LeadCaptureMessage {
    pub Id: Uuid,
    pub RelatedId: Option<Uuid>,
    pub IsCreated: bool,
    pub AffectedRows: i64,
}

/// Lead.Capture's answer.
#[derive(ToSchema)]
#[schema(as = LsqLeadCaptured)]
pub struct LeadCaptured {
    pub Status: SuccessStatus,
    pub Message: LeadCaptureMessage,
}

/// One field of LeadsMetaData.Get.
#[derive(ToSchema)]
#[schema(as = LsqLeadField)]
pub struct LeadField {
    pub SchemaName: String,
    pub DisplayName: String,
    pub DataType: String,
    pub IsMandatory: bool,
}

/// One activity of RetrieveRecentlyModified: the activity, its lead and when it last changed.
#[derive(ToSchema)]
#[schema(as = LsqRecentActivity)]
pub struct RecentActivity {
    pub Id: Uuid,
    pub ProspectActivityId: Uuid,
    pub RelatedProspectId: Option<Uuid>,
    pub EventCode: i64,
    pub EventName: String,
    pub ActivityScore: i64,
    pub ActivityType: i64,
    pub ActivityNote: Option<String>,
    pub Status: Option<String>,
    pub Owner: Uuid,
    pub CreatedOn: String,
    pub ModifiedOn: String,
    pub CreatedByName: Option<String>,
    pub ModifiedByName: Option<String>,
}

/// RetrieveRecentlyModified's answer: the count over all pages and this page.
#[derive(ToSchema)]
#[schema(as = LsqRecentPage)]
pub struct RecentPage {
    pub RecordCount: i64,
    pub ProspectActivities: Vec<RecentActivity>,
}

/// The activity a RetrieveActivityChange record is about (numbers as strings, as LeadSquared's
/// example shows them).
#[derive(ToSchema)]
#[schema(as = LsqChangedActivity)]
pub struct ChangedActivity {
    pub ProspectActivityId: Uuid,
    pub RelatedProspectId: Option<Uuid>,
    pub ActivityEvent: String,
}

/// One change of RetrieveActivityChange: the activity, who changed it when and through which
/// API (`Source`: native, leadsquared, salesloft), and its values before and after under
/// LeadSquared's names (`ActivityEvent_Note`, `Owner`, `Status`, `ActivityDateTime`, `mx_…`).
#[derive(ToSchema)]
#[schema(as = LsqActivityChange)]
pub struct ActivityChange {
    pub Activity: ChangedActivity,
    pub ChangeId: String,
    /// updated, deleted or restored.
    pub Action: String,
    pub Source: String,
    pub ModifiedOn: String,
    pub ModifiedBy: Option<Uuid>,
    pub ModifiedByName: String,
    /// The changed values before (every value for a deletion; null for a restore).
    pub OldValues: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// The changed values after (every value for a restore; null for a deletion).
    pub NewValues: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

/// RetrieveActivityChange's answer: the count over all pages and this page, oldest change first.
#[derive(ToSchema)]
#[schema(as = LsqChangePage)]
pub struct ChangePage {
    pub RecordCount: i64,
    pub Activities: Vec<ActivityChange>,
}

/// `postUpdatedLead` of Lead.CreateOrUpdate: a flag, as `true`/`false`, `yes`/`no` or `1`/`0`.
pub struct PostUpdatedLead;

impl utoipa::PartialSchema for PostUpdatedLead {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::wire::schema::any_case(
            "true/yes/1: the answer carries the lead; false/no/0 or blank: it does not (any case).",
            &["true", "false", "yes", "no", "1", "0"],
            true,
        )
    }
}
impl ToSchema for PostUpdatedLead {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("LsqPostUpdatedLead")
    }
}

/// `LeadUpdateBehavior` of Lead.Capture, in any letter case; blank or absent = update.
pub struct LeadUpdateBehavior;

impl utoipa::PartialSchema for LeadUpdateBehavior {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::wire::schema::any_case(
            "DoNotUpdate, UpdateOnlyEmptyFields or DoNotUpdateUniqueFields (any case); blank or absent: update the lead.",
            &["DoNotUpdate", "UpdateOnlyEmptyFields", "DoNotUpdateUniqueFields"],
            true,
        )
    }
}
impl ToSchema for LeadUpdateBehavior {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("LsqLeadUpdateBehavior")
    }
}
