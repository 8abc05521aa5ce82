//! Documentation types of Salesloft's activity resources (Call, Email, Note, Meeting,
//! CrmActivity, their lists and write bodies) in the shapes of Salesloft's own OpenAPI, for
//! `/openapi.json`: each describes exactly what `streams.rs` / `writes.rs` write. Never built.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::docs::Paging;

/// A text property of a JSON write: a string, or a number taken as its digits (`Fields::text`).
pub struct Text;

impl utoipa::PartialSchema for Text {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Number]))
            .into()
    }
}
impl ToSchema for Text {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("SalesloftText")
    }
}

/// Calls' sort keys (`sort_by` / `sort`).
#[derive(ToSchema)]
#[schema(as = SalesloftCallSortKey)]
#[allow(non_camel_case_types)]
pub enum CallSortKey {
    updated_at,
    created_at,
}

/// Emails' sort keys.
#[derive(ToSchema)]
#[schema(as = SalesloftEmailSortKey)]
#[allow(non_camel_case_types)]
pub enum EmailSortKey {
    updated_at,
    send_time,
}

/// Notes' sort keys.
#[derive(ToSchema)]
#[schema(as = SalesloftNoteSortKey)]
#[allow(non_camel_case_types)]
pub enum NoteSortKey {
    updated_at,
    created_at,
}

/// Meetings' sort keys.
#[derive(ToSchema)]
#[schema(as = SalesloftMeetingSortKey)]
#[allow(non_camel_case_types)]
pub enum MeetingSortKey {
    start_time,
    created_at,
    updated_at,
}

/// CRM activities' sort key.
#[derive(ToSchema)]
#[schema(as = SalesloftCrmActivitySortKey)]
#[allow(non_camel_case_types)]
pub enum CrmActivitySortKey {
    updated_at,
}

/// `{"id": …}`: a related record by its integer id.
#[derive(ToSchema)]
#[schema(as = SalesloftEmbedded)]
pub struct Embedded {
    pub id: i64,
}

/// The owner of a record: its integer id and GUID.
#[derive(ToSchema)]
#[schema(as = SalesloftEmbeddedUser)]
pub struct EmbeddedUser {
    pub id: i64,
    pub guid: Uuid,
}

/// Salesloft's Call; fields this server keeps no data for are null.
#[derive(ToSchema)]
#[schema(as = SalesloftCall)]
pub struct Call {
    /// The activity's integer id (the `n` of `call-n` in the history feed).
    pub id: i64,
    /// Phone number that received the call (`static_data.to`).
    pub to: Option<String>,
    /// Length of the call in seconds (`static_data.duration`).
    pub duration: Option<i64>,
    /// Outcome of the conversation (`static_data.sentiment`).
    pub sentiment: Option<String>,
    /// Result of the call (`static_data.disposition`).
    pub disposition: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub recordings: Option<Vec<Value>>,
    pub user: EmbeddedUser,
    pub action: Option<Embedded>,
    /// The person called.
    pub called_person: Option<Embedded>,
    /// The same activity as a CRM activity (same id).
    pub crm_activity: Embedded,
    pub note: Option<Embedded>,
    pub cadence: Option<Embedded>,
    pub step: Option<Embedded>,
}

/// Salesloft's Email (a stored `sent_email` activity).
#[derive(ToSchema)]
#[schema(as = SalesloftEmail)]
pub struct Email {
    pub id: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub user: EmbeddedUser,
    /// The person the email was sent to.
    pub recipient: Option<Embedded>,
    pub mailing: Option<Embedded>,
    pub action: Option<Embedded>,
    pub crm_activity: Embedded,
    pub cadence: Option<Embedded>,
    pub step: Option<Embedded>,
    pub email_template: Option<Embedded>,
    pub task: Option<Embedded>,
    /// Always `sent`: the stored activity records a sent email.
    pub status: String,
    pub bounced: Option<bool>,
    pub click_tracking: Option<bool>,
    pub view_tracking: Option<bool>,
    pub personalization: Option<String>,
    /// `static_data.recipient_email_address`, else the person's email address.
    pub recipient_email_address: Option<String>,
    #[schema(format = DateTime)]
    pub send_after: Option<String>,
    /// When the activity occurred.
    #[schema(format = DateTime)]
    pub sent_at: String,
    pub subject: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub counts: Option<BTreeMap<String, i64>>,
    pub error_message: Option<String>,
}

/// Salesloft's Note (a stored `note` activity).
#[derive(ToSchema)]
#[schema(as = SalesloftNote)]
pub struct Note {
    pub id: i64,
    /// The note's text (the activity's note).
    pub content: String,
    /// `person` or `account`.
    pub associated_type: Option<String>,
    pub associated_with: Option<Embedded>,
    /// `static_data.call_id`.
    pub call: Option<Embedded>,
    pub user: EmbeddedUser,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Salesloft's Meeting (a stored `meeting` activity); calendar attributes are null.
#[derive(ToSchema)]
#[schema(as = SalesloftMeeting)]
pub struct Meeting {
    pub id: i64,
    /// `static_data.title`.
    pub title: Option<String>,
    /// The activity's note.
    pub description: String,
    /// When the activity occurred.
    #[schema(format = DateTime)]
    pub start_time: String,
    pub end_time: Option<String>,
    pub person: Option<Embedded>,
    pub account_id: Option<String>,
    pub recipient_email: Option<String>,
    pub recipient_name: Option<String>,
    /// `static_data.location`.
    pub location: Option<String>,
    /// The meeting's owner (not in Salesloft's schema; what `user_guids` filters by).
    pub user: EmbeddedUser,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub status: Option<String>,
    pub all_day: Option<bool>,
    pub attendees: Option<Vec<Value>>,
    pub guests: Option<Vec<String>>,
    pub booked_by_user: Option<Embedded>,
    pub cadence: Option<Embedded>,
    pub step: Option<Embedded>,
    pub calendar_id: Option<String>,
    pub calendar_type: Option<String>,
    pub canceled_at: Option<String>,
    pub crm_custom_fields: Option<BTreeMap<String, Value>>,
    pub crm_references: Option<BTreeMap<String, Value>>,
    pub event_id: Option<String>,
    pub event_source: Option<String>,
    pub i_cal_uid: Option<String>,
    pub meeting_type: Option<String>,
    pub no_show: Option<bool>,
    pub owned_by_meetings_settings: Option<BTreeMap<String, Value>>,
    pub booked_by_meetings_settings: Option<BTreeMap<String, Value>>,
    pub reschedule_status: Option<String>,
    pub strict_attribution: Option<bool>,
    pub task_id: Option<String>,
}

/// Salesloft's CrmActivity: every stored activity (the store is the CRM).
#[derive(ToSchema)]
#[schema(as = SalesloftCrmActivity)]
pub struct CrmActivity {
    pub id: i64,
    /// The activity type's display name.
    pub subject: String,
    /// The activity's note.
    pub description: String,
    /// `phone` for calls, `email` for email types, else the Salesloft type.
    pub activity_type: String,
    /// The activity's GUID (LeadSquared's ProspectActivityId).
    pub crm_id: String,
    /// The activity's custom field values by schema name.
    pub custom_crm_fields: BTreeMap<String, Value>,
    pub person: Option<Embedded>,
    pub user: EmbeddedUser,
    pub error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `metadata.sorting` of a resource list.
#[derive(ToSchema)]
#[schema(as = SalesloftListSorting)]
pub struct ListSorting {
    /// The key sorted on.
    pub sort_by: String,
    #[schema(pattern = "^(ASC|DESC)$")]
    pub sort_direction: String,
}

/// `metadata` of a resource list.
#[derive(ToSchema)]
#[schema(as = SalesloftListMetadata)]
pub struct ListMetadata {
    pub filtering: BTreeMap<String, Value>,
    pub paging: Paging,
    pub sorting: ListSorting,
}

macro_rules! envelopes {
    ($($list:ident, $one:ident, $item:ident, $list_name:ident, $one_name:ident;)*) => {$(
        /// A page of records.
        #[derive(ToSchema)]
        #[schema(as = $list_name)]
        pub struct $list {
            pub metadata: ListMetadata,
            pub data: Vec<$item>,
        }

        /// One record.
        #[derive(ToSchema)]
        #[schema(as = $one_name)]
        pub struct $one {
            pub data: $item,
        }
    )*};
}

envelopes! {
    CallList, CallOne, Call, SalesloftCallList, SalesloftCallOne;
    EmailList, EmailOne, Email, SalesloftEmailList, SalesloftEmailOne;
    NoteList, NoteOne, Note, SalesloftNoteList, SalesloftNoteOne;
    MeetingList, MeetingOne, Meeting, SalesloftMeetingList, SalesloftMeetingOne;
    CrmActivityList, CrmActivityOne, CrmActivity, SalesloftCrmActivityList, SalesloftCrmActivityOne;
}

/// `POST /v2/activities/calls` (JSON). An optional property given as null is
/// taken as not given; text may be sent as a number (its digits are kept).
#[derive(ToSchema)]
#[schema(as = SalesloftCallCreate)]
pub struct CallCreate {
    /// The person called (required).
    #[schema(minimum = 1)]
    pub person_id: i64,
    #[schema(required = false)]
    pub to: Option<Text>,
    #[schema(required = false, minimum = 0)]
    pub duration: Option<i64>,
    #[schema(required = false)]
    pub disposition: Option<Text>,
    #[schema(required = false)]
    pub sentiment: Option<Text>,
    /// Kept as the activity's note.
    #[schema(required = false)]
    pub notes: Option<Text>,
    /// Log for this user (Administrators only, for another user).
    #[schema(required = false)]
    pub user_guid: Option<Uuid>,
}

/// `POST /v2/notes` (JSON); null optional properties are not given.
#[derive(ToSchema)]
#[schema(as = SalesloftNoteCreate)]
pub struct NoteCreate {
    pub content: Text,
    /// `person` or `account`, any case.
    #[schema(pattern = "^([Pp][Ee][Rr][Ss][Oo][Nn]|[Aa][Cc][Cc][Oo][Uu][Nn][Tt])$")]
    pub associated_with_type: String,
    #[schema(minimum = 1)]
    pub associated_with_id: i64,
    #[schema(required = false, minimum = 1)]
    pub call_id: Option<i64>,
    #[schema(required = false)]
    pub subject: Option<Text>,
    #[schema(required = false)]
    pub user_guid: Option<Uuid>,
    #[schema(required = false)]
    pub skip_crm_sync: Option<bool>,
}

/// `PUT /v2/notes/{id}` (JSON); a null `call_id` is not given.
#[derive(ToSchema)]
#[schema(as = SalesloftNoteUpdate)]
pub struct NoteUpdate {
    pub content: Text,
    #[schema(required = false, minimum = 1)]
    pub call_id: Option<i64>,
}

/// `POST /v2/activities/calls` form-encoded: the same properties, none of them null (a form has no null).
#[derive(ToSchema)]
#[schema(as = SalesloftCallCreateForm)]
pub struct CallCreateForm {
    /// The person called (required).
    #[schema(minimum = 1)]
    pub person_id: i64,
    #[schema(required = false)]
    pub to: String,
    #[schema(required = false, minimum = 0)]
    pub duration: i64,
    #[schema(required = false)]
    pub disposition: String,
    #[schema(required = false)]
    pub sentiment: String,
    /// Kept as the activity's note.
    #[schema(required = false)]
    pub notes: String,
    /// Log for this user (Administrators only, for another user).
    #[schema(required = false)]
    pub user_guid: Uuid,
}

/// `POST /v2/notes` form-encoded: the same properties, none of them null (a form has no null).
#[derive(ToSchema)]
#[schema(as = SalesloftNoteCreateForm)]
pub struct NoteCreateForm {
    pub content: String,
    /// `person` or `account`, any case.
    #[schema(pattern = "^([Pp][Ee][Rr][Ss][Oo][Nn]|[Aa][Cc][Cc][Oo][Uu][Nn][Tt])$")]
    pub associated_with_type: String,
    #[schema(minimum = 1)]
    pub associated_with_id: i64,
    #[schema(required = false, minimum = 1)]
    pub call_id: i64,
    #[schema(required = false)]
    pub subject: String,
    #[schema(required = false)]
    pub user_guid: Uuid,
    #[schema(required = false)]
    pub skip_crm_sync: bool,
}

/// `PUT /v2/notes/{id}` form-encoded: the same properties, none of them null (a form has no null).
#[derive(ToSchema)]
#[schema(as = SalesloftNoteUpdateForm)]
pub struct NoteUpdateForm {
    pub content: String,
    #[schema(required = false, minimum = 1)]
    pub call_id: i64,
}
