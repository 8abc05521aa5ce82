//! LSQ activity endpoints, in LeadSquared's documented shapes: Create, Retrieve, details, update,
//! bulk by lead, delete.

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};

use utoipa::ToSchema;

use super::docs;
use super::wire::{self, Bool, Field, Int, Paging, Sorting, Text};
use super::{json_body, json_body_required, Lsq, LsqError, LsqResult};
use crate::api::json_out::{page_capacity, respond, JsonOut};
use crate::app::AppState;
use crate::domain::fields::{FieldKey, FieldValues};
use crate::domain::time::{format_lsq, lsq_text, parse_lsq_datetime, YEAR_RANGE};
use crate::domain::{ActivitySort, ActivityType, ActivityView, Micros, NewLead, Page};
use crate::service::{
    ActivityInput, ActivityPatch, BulkRowResult, LeadActivityFilter, LeadByEmail,
};

/// The most rows one bulk call may carry.
pub const MAX_BULK_ROWS: usize = 25;

pub(super) fn lsq_date(name: &str, v: Option<&Text>) -> LsqResult<Option<Micros>> {
    match v.map(|t| t.0.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_lsq_datetime(s).map(Some).ok_or_else(|| {
            LsqError::bad_input(format!(
                "Invalid {name} '{s}': expected yyyy-MM-dd HH:mm:ss with {YEAR_RANGE}"
            ))
        }),
    }
}

/// An activity to post (Create, and each row of the bulk calls).
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqNewActivity)]
pub struct CreateBody {
    /// The lead's GUID (required by Create and bulk by lead; ignored by bulk by opportunity).
    #[serde(rename = "RelatedProspectId")]
    related_prospect_id: Option<String>,
    /// The activity type's event code (required).
    #[serde(rename = "ActivityEvent")]
    activity_event: Option<Int>,
    #[serde(rename = "ActivityNote")]
    activity_note: Option<String>,
    /// When it happened (default: now).
    #[serde(rename = "ActivityDateTime")]
    #[schema(schema_with = wire::schema::lsq_datetime)]
    activity_date_time: Option<Text>,
    /// The owner, by email address (default: the caller).
    #[serde(rename = "ActivityOwnerEmail")]
    owner_email: Option<String>,
    /// Custom field values; mandatory fields of the type must be given.
    #[serde(rename = "Fields", default)]
    fields: Option<Vec<Field>>,
    /// Answer the lead's new score as `Message.LeadScore`.
    #[serde(rename = "IncludeLeadScore", default)]
    include_lead_score: Option<Bool>,
    /// Despite its name, true skips checking dropdown values against the type's options.
    #[serde(rename = "ValidateDropDownOptions", default)]
    validate_dropdown_options: Option<Bool>,
    /// Posting by email instead of `RelatedProspectId`: the lead with this email, created from
    /// these values (and `Score` given to the activity) when there is none.
    #[serde(rename = "EmailAddress", default)]
    email: Option<Text>,
    #[serde(rename = "FirstName", default)]
    first_name: Option<Text>,
    #[serde(rename = "LastName", default)]
    last_name: Option<Text>,
    #[serde(rename = "Phone", default)]
    phone: Option<Text>,
    /// The new lead's score, a whole number.
    #[serde(rename = "Score", default)]
    #[schema(schema_with = wire::schema::score_text)]
    score: Option<Text>,
}

/// A value of a JSON body, trimmed; `None` when absent, null or blank.
fn given(v: &Option<Text>) -> Option<String> {
    v.as_ref()
        .map(|t| t.0.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl CreateBody {
    /// The lead to post on by email, when the body names no `RelatedProspectId` but an email.
    fn lead_by_email(&self) -> LsqResult<Option<LeadByEmail>> {
        if self
            .related_prospect_id
            .as_deref()
            .is_some_and(|l| !l.trim().is_empty())
        {
            return Ok(None);
        }
        let Some(email) = given(&self.email) else {
            return Ok(None);
        };
        let score = match given(&self.score) {
            None => None,
            Some(s) => Some(s.parse::<i64>().map_err(|_| {
                LsqError::bad_input(format!("Invalid Score '{s}': expected a whole number"))
            })?),
        };
        Ok(Some(LeadByEmail {
            lead: NewLead {
                email: Some(email),
                first_name: given(&self.first_name),
                last_name: given(&self.last_name),
                phone: given(&self.phone),
                ..NewLead::default()
            },
            score,
        }))
    }

    pub fn into_input(self) -> LsqResult<(Option<String>, ActivityInput)> {
        Ok((
            self.related_prospect_id,
            ActivityInput {
                event_code: self.activity_event.map(|i| i.0),
                note: self.activity_note,
                occurred_at: lsq_date("ActivityDateTime", self.activity_date_time.as_ref())?,
                owner_email: self.owner_email,
                fields: self
                    .fields
                    .unwrap_or_default()
                    .into_iter()
                    .map(Field::into_input)
                    .collect(),
                skip_option_check: self.validate_dropdown_options.unwrap_or_default().0,
            },
        ))
    }
}

/// `POST /v2/ProspectActivity.svc/Create`
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/Create", tag = "LeadSquared",
    operation_id = "lsq_activity_create", summary = "Post an activity on a lead",
    request_body = CreateBody,
    responses((status = 200, description = "Posted", body = docs::CreatedActivity)))]
pub async fn create(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let body: CreateBody = json_body(body).await?;
    let include_score = body.include_lead_score.unwrap_or_default().0;
    let by_email = body.lead_by_email()?;
    let (lead, input) = body.into_input()?;
    let (id, score) = match by_email {
        Some(target) => {
            app.service
                .post_activity_by_email(&lsq.user, target, input)
                .await?
        }
        None => {
            let lead = lead.filter(|l| !l.trim().is_empty()).ok_or_else(|| {
                LsqError::from(crate::error::Error::Required(
                    crate::error::Field::RelatedLead,
                ))
            })?;
            app.service.post_activity(&lsq.user, &lead, input).await?
        }
    };
    let mut message = json!({"Id": id});
    if include_score {
        message["LeadScore"] = json!(score);
    }
    Ok(Json(json!({"Status": "Success", "Message": message})))
}

/// The most event codes one `DeleteActivities` call names.
pub const MAX_DELETE_CODES: usize = 100;

/// `DeleteActivities`' body.
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqDeleteActivities)]
pub struct DeleteBody {
    /// The lead's GUID.
    #[serde(rename = "ProspectId")]
    #[schema(
        required = true,
        nullable = false,
        pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    )]
    prospect_id: Option<String>,
    /// The custom activity types' event codes (1 to 100 entries, repeats counted).
    #[serde(rename = "ActivityEventList")]
    #[schema(required = true, nullable = false, value_type = Vec<wire::Int>, min_items = 1, max_items = 100)]
    activity_event_list: Option<Vec<Int>>,
    /// Only activities that happened at or after this time.
    #[serde(rename = "FromDate")]
    #[schema(schema_with = wire::schema::lsq_datetime)]
    from_date: Option<Text>,
    /// Only activities that happened up to the end of this second.
    #[serde(rename = "ToDate")]
    #[schema(schema_with = wire::schema::lsq_datetime)]
    to_date: Option<Text>,
    /// Accepted and not called: the deletion is done when the answer comes.
    #[serde(rename = "StatusWebhookURL")]
    #[allow(dead_code)]
    status_webhook_url: Option<String>,
}

/// `POST /v2/ProspectActivity.svc/DeleteActivities` — deletes a lead's activities of the custom
/// types named, in the date range when one is given; LeadSquared's answer, with the count.
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/DeleteActivities", tag = "LeadSquared",
    operation_id = "lsq_activity_delete", summary = "Delete a lead's activities of some custom types",
    request_body = DeleteBody,
    responses((status = 200, description = "Deleted", body = docs::DeletedActivities)))]
pub async fn delete(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let body: DeleteBody = json_body(body).await?;
    let lead = body
        .prospect_id
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| LsqError::bad_input("ProspectId is required"))?;
    let list = body.activity_event_list.unwrap_or_default();
    if list.is_empty() {
        return Err(LsqError::bad_input(
            "ActivityEventList is required: the event codes of the activities to delete",
        ));
    }
    // The bound is on the entries sent, repeats included, as the document's maxItems says.
    if list.len() > MAX_DELETE_CODES {
        return Err(LsqError::bad_input(format!(
            "ActivityEventList has more than {MAX_DELETE_CODES} entries"
        )));
    }
    let mut codes: Vec<i64> = list.into_iter().map(|i| i.0).collect();
    codes.sort_unstable();
    codes.dedup();
    let from = lsq_date("FromDate", body.from_date.as_ref())?;
    // ToDate takes its whole last second.
    let to = lsq_date("ToDate", body.to_date.as_ref())?.map(|t| t.saturating_add(999_999));
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(LsqError::bad_input("ToDate is before FromDate"));
        }
    }
    let deleted = app
        .service
        .delete_lead_activities(&lsq.user, &lead, &codes, from, to)
        .await?;
    Ok(Json(json!({"Status": "Success", "Message": {
        "Message": "Your request for delete activities has been queued.",
        "AffectedRows": deleted,
    }})))
}

/// Retrieve's filter: one event code, and when the activities happened (both bounds inclusive).
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = LsqRetrieveFilter)]
pub struct RetrieveParameter {
    #[serde(rename = "ActivityEvent")]
    activity_event: Option<Int>,
    #[serde(rename = "FromDate")]
    #[schema(schema_with = wire::schema::lsq_datetime)]
    from_date: Option<Text>,
    #[serde(rename = "ToDate")]
    #[schema(schema_with = wire::schema::lsq_datetime)]
    to_date: Option<Text>,
}

/// Retrieve's body (an empty body is `{}`). Sorting.ColumnName: CreatedOn or ActivityDateTime
/// (when it happened, the default) or ModifiedOn.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = LsqRetrieve)]
pub struct RetrieveBody {
    #[serde(rename = "Parameter", default, deserialize_with = "wire::object")]
    parameter: Option<RetrieveParameter>,
    #[serde(rename = "Paging", default, deserialize_with = "wire::object")]
    paging: Option<Paging>,
    #[serde(rename = "Sorting", default, deserialize_with = "wire::object")]
    #[schema(schema_with = wire::schema::sorting_by_time)]
    sorting: Option<Sorting>,
}

impl RetrieveBody {
    /// The filter, order and window this body asks for, each part checked (a pure function of the
    /// body, apart from the handler so the fuzz targets in fuzz/ can call it).
    pub fn into_filter(self) -> LsqResult<LeadActivityFilter> {
        let param = self.parameter.unwrap_or_default();
        let (offset, limit) = self.paging.unwrap_or_default().window()?;
        let sorting = self.sorting.unwrap_or_default();
        let sort = match sorting.column.as_deref().map(str::trim) {
            None | Some("") => ActivitySort::OccurredAt,
            Some(c)
                if c.eq_ignore_ascii_case("CreatedOn")
                    || c.eq_ignore_ascii_case("ActivityDateTime") =>
            {
                ActivitySort::OccurredAt
            }
            Some(c) if c.eq_ignore_ascii_case("ModifiedOn") => ActivitySort::UpdatedAt,
            Some(c) => {
                return Err(LsqError::bad_input(format!(
                    "Sorting.ColumnName '{c}' is not supported here: use CreatedOn or ModifiedOn"
                )))
            }
        };
        Ok(LeadActivityFilter {
            event_code: param.activity_event.map(|i| i.0),
            occurred_from: lsq_date("Parameter.FromDate", param.from_date.as_ref())?,
            occurred_to: lsq_date("Parameter.ToDate", param.to_date.as_ref())?,
            sort,
            descending: sorting.descending()?,
            offset,
            limit,
        })
    }
}

/// `POST /v2/ProspectActivity.svc/Retrieve?leadId=…`
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/Retrieve", tag = "LeadSquared",
    operation_id = "lsq_activity_retrieve", summary = "A lead's activities, one page",
    params(("leadId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The lead's GUID")),
    request_body = Option<RetrieveBody>,
    responses((status = 200, description = "The page", body = docs::Retrieved)))]
pub async fn retrieve(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Response> {
    let lead = lsq.param("leadId")?.to_string();
    let body: RetrieveBody = json_body(body).await?;
    let filter = body.into_filter()?;
    let page = app
        .service
        .lead_activities(&lsq.user, &lead, filter)
        .await?;
    Ok(respond(retrieve_page(&page)))
}

/// Retrieve's answer (the shape of LeadSquared's documented example), written straight from the
/// rows: building a `serde_json::Value` tree per row cost more than reading the rows, and serde's
/// map machinery a quarter of a page (docs/decisions.md, "Rendering").
fn retrieve_page(page: &Page<ActivityView>) -> serde_json::Result<JsonOut> {
    let mut o = JsonOut::with_capacity(page_capacity(page.rows.len()));
    o.begin_object();
    o.key("RecordCount");
    o.uint(page.total);
    o.key("ProspectActivities");
    o.begin_array();
    for a in &page.rows {
        write_retrieve_row(&mut o, a)?;
    }
    o.end_array();
    o.end_object();
    Ok(o)
}

/// One row of Retrieve, in the shape of LeadSquared's documented example.
fn write_retrieve_row(o: &mut JsonOut, a: &ActivityView) -> serde_json::Result<()> {
    o.begin_object();
    o.key("Id");
    o.uuid(&a.guid);
    o.key("EventCode");
    o.int(a.event_code);
    o.key("EventName");
    o.str(&a.type_display_name);
    o.key("ActivityScore");
    o.int(a.score);
    o.key("CreatedOn");
    o.str(lsq_text(a.occurred_at).as_str());
    o.key("ActivityType");
    o.int(a.type_kind.lsq_number());
    o.key("IsEmailType");
    o.bool(a.is_email_type);
    o.key("Type");
    o.str(if a.direction == 1 {
        "Outbound"
    } else {
        "Inbound"
    });
    o.key("SessionId");
    o.uuid(&a.guid);
    o.key("TrackLocation");
    o.int(0);
    o.key("Latitude");
    o.int(0);
    o.key("Longitude");
    o.int(0);
    o.key("RelatedProspectId");
    o.opt_uuid(a.lead_guid.as_ref());
    o.key("Data");
    o.begin_array();
    for (key, value) in [
        ("CreatedByName", a.created_by_name.as_str()),
        ("EventName", a.type_display_name.as_str()),
        ("NotableEventDescription", a.note.as_str()),
        ("HasAttachments", "False"),
    ] {
        o.begin_object();
        o.key("Key");
        o.str(key);
        o.key("Value");
        o.str(value);
        o.end_object();
    }
    o.end_array();
    o.key("ActivityFields");
    write_activity_fields(o, &ActivityFields::of(a))?;
    o.key("ModifiedOn");
    o.str(lsq_text(a.updated_at).as_str());
    o.end_object();
    Ok(())
}

/// The custom values plus the system fields Status and Owner, as `ActivityFields` shows them
/// (a custom field of either name keeps its place and shows the system value).
struct ActivityFields<'a> {
    fields: &'a FieldValues,
    status: &'a str,
    /// Serialized (as serde writes a `Uuid`) and written alike: lowercase and hyphenated.
    owner: &'a uuid::Uuid,
}

impl<'a> ActivityFields<'a> {
    fn of(a: &'a ActivityView) -> ActivityFields<'a> {
        ActivityFields {
            fields: &a.fields,
            status: &a.status,
            owner: &a.owner_guid,
        }
    }

    /// Any case, through the parsed values.
    fn mapped<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = self.fields.to_map();
        let mut m = s.serialize_map(Some(fields.len() + 2))?;
        for (k, v) in &fields {
            match k.as_str() {
                "Status" => m.serialize_entry(k, self.status)?,
                "Owner" => m.serialize_entry(k, self.owner)?,
                _ => m.serialize_entry(k, v)?,
            }
        }
        if !fields.contains_key("Status") {
            m.serialize_entry("Status", self.status)?;
        }
        if !fields.contains_key("Owner") {
            m.serialize_entry("Owner", self.owner)?;
        }
        m.end()
    }
}

/// Writes `ActivityFields`. The usual case builds no map: the stored object's text (valid JSON,
/// as `FieldValues` holds it) with the two system fields appended. A custom field named Status or
/// Owner takes the general way, through the parsed values.
fn write_activity_fields(o: &mut JsonOut, f: &ActivityFields<'_>) -> serde_json::Result<()> {
    static STATUS: LazyLock<FieldKey> = LazyLock::new(|| FieldKey::new("Status"));
    static OWNER: LazyLock<FieldKey> = LazyLock::new(|| FieldKey::new("Owner"));
    if f.fields.has_key(&STATUS) || f.fields.has_key(&OWNER) || !o.open_object(f.fields.as_json()) {
        return o.serde(f);
    }
    o.key("Status");
    o.str(f.status);
    o.key("Owner");
    o.uuid(f.owner);
    o.end_object();
    Ok(())
}

impl Serialize for ActivityFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.mapped(s)
    }
}

/// Field metadata as the type-setting and details endpoints show it.
pub fn field_metadata(ty: &ActivityType) -> Vec<Value> {
    let mut fields: Vec<&crate::domain::FieldDef> = ty.fields.iter().collect();
    fields.sort_by_key(|f| f.sequence);
    fields
        .into_iter()
        .map(|f| {
            json!({
                "SchemaName": f.schema_name,
                "DisplayName": f.display_name,
                "DataType": f.data_type.as_str(),
                "IsMandatory": f.is_mandatory,
                "Sequence": f.sequence,
                "OptionSet": super::types::option_set_string(&f.options),
            })
        })
        .collect()
}

/// The type's field metadata with this record's values, plus the system fields Status, Owner and
/// ActivityEvent_Note (GetActivityDetails and GetOpportunityDetails).
pub fn fields_with_values(ty: &ActivityType, a: &ActivityView) -> Vec<Value> {
    let mut fields = field_metadata(ty);
    let values = a.fields.to_map();
    for f in fields.iter_mut() {
        let name = f["SchemaName"].as_str().unwrap_or_default().to_string();
        f["Value"] = json!(values.get(&name).cloned().unwrap_or_default());
    }
    for (name, display, value) in [
        ("Status", "Status", a.status.clone()),
        ("Owner", "Owner", a.owner_guid.to_string()),
        ("ActivityEvent_Note", "Notes", a.note.clone()),
    ] {
        fields.push(json!({"SchemaName": name, "DisplayName": display, "DataType": "String", "Value": value}));
    }
    fields
}

/// `GET /v2/ProspectActivity.svc/GetActivityDetails?activityId=…`
#[utoipa::path(get, path = "/v2/ProspectActivity.svc/GetActivityDetails", tag = "LeadSquared",
    operation_id = "lsq_activity_details", summary = "One activity with its fields",
    params(("activityId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The activity's GUID")),
    responses((status = 200, description = "The activity", body = docs::ActivityDetails)))]
pub async fn details(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let id = lsq.param("activityId")?;
    let (a, ty) = app.service.activity(&lsq.user, id).await?;
    Ok(Json(json!({
        "ID": a.guid,
        "ProspectActivityId": a.guid,
        "RelatedProspectId": a.lead_guid,
        "ActivityEvent": a.event_code,
        "Name": a.type_name,
        "DisplayName": a.type_display_name,
        "ActivityNote": a.note,
        "CreatedOn": format_lsq(a.occurred_at),
        "ModifiedOn": format_lsq(a.updated_at),
        "CreatedByName": a.created_by_name,
        "ModifiedByName": a.modified_by_name,
        "Fields": fields_with_values(&ty, &a),
    })))
}

/// An activity's changes; the activity is `ProspectActivityId` or the `activityId` query parameter.
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqActivityUpdate)]
pub struct UpdateBody {
    #[serde(rename = "ProspectActivityId")]
    prospect_activity_id: Option<String>,
    #[serde(rename = "ActivityEvent")]
    activity_event: Option<Int>,
    #[serde(rename = "ActivityNote")]
    activity_note: Option<String>,
    #[serde(rename = "Fields", default)]
    fields: Option<Vec<Field>>,
    #[serde(rename = "ValidateDropDownOptions", default)]
    validate_dropdown_options: Option<Bool>,
}

impl UpdateBody {
    /// The activity id the body names (`None` when missing or blank) and the edit it asks for.
    pub fn into_patch(self) -> (Option<String>, ActivityPatch) {
        let id = self.prospect_activity_id.filter(|s| !s.trim().is_empty());
        let patch = ActivityPatch {
            event_code: self.activity_event.map(|i| i.0),
            note: self.activity_note,
            fields: self
                .fields
                .unwrap_or_default()
                .into_iter()
                .map(Field::into_input)
                .collect(),
            skip_option_check: self.validate_dropdown_options.unwrap_or_default().0,
        };
        (id, patch)
    }
}

/// `POST /v2/ProspectActivity.svc/CustomActivity/Update`
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/CustomActivity/Update", tag = "LeadSquared",
    operation_id = "lsq_activity_update", summary = "Change an activity",
    params(("activityId" = Option<String>, Query, description = "The activity's GUID, when the body has no ProspectActivityId")),
    request_body = UpdateBody,
    responses((status = 200, description = "Changed", body = docs::IdAnswer)))]
pub async fn update(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let body: UpdateBody = json_body_required(body).await?;
    let (id, patch) = body.into_patch();
    let id = id
        .or_else(|| lsq.params.get("activityId").map(str::to_string))
        .ok_or_else(|| {
            LsqError::from(crate::error::Error::Required(
                crate::error::Field::ActivityId,
            ))
        })?;
    let guid = app.service.update_activity(&lsq.user, &id, patch).await?;
    Ok(Json(json!({"Status": "Success", "Message": {"Id": guid}})))
}

/// The per-row response of the bulk endpoints (as LeadSquared documents bulk by opportunity).
pub fn bulk_response(results: &[BulkRowResult]) -> Value {
    let rows: Vec<Value> = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = json!({
                "ProspectActivityId": r.guid,
                "RowNumber": i + 1,
                "ActivityCreated": r.guid.is_some(),
            });
            if let Some(e) = &r.error {
                row["ExceptionMessage"] = json!(e);
            }
            row
        })
        .collect();
    json!({"Response": rows})
}

/// A bulk row's related lead (as sent) and its activity.
pub type RowInput = (Option<String>, ActivityInput);

/// The bulk endpoints' rows as inputs. A row whose own shape is bad (e.g. an invalid date) is
/// reported in place, like a row that fails validation, and never reaches the service: `early`
/// holds each row's error or `None`, in request order, and the valid rows' inputs come in order.
pub fn bulk_inputs(rows: Vec<CreateBody>) -> (Vec<RowInput>, Vec<Option<String>>) {
    let mut valid = Vec::with_capacity(rows.len());
    let mut early = Vec::with_capacity(rows.len());
    for row in rows {
        match row.into_input() {
            Ok(pair) => {
                valid.push(pair);
                early.push(None);
            }
            Err(e) => early.push(Some(e.message)),
        }
    }
    (valid, early)
}

/// The bulk answer in request order: a row refused before the service with its early error, every
/// other row with the service's result for it, taken in turn.
pub fn bulk_answer(early: Vec<Option<String>>, stored: Vec<BulkRowResult>) -> Json<Value> {
    let mut stored = stored.into_iter();
    let results: Vec<BulkRowResult> = early
        .into_iter()
        .map(|e| match e {
            Some(msg) => BulkRowResult {
                guid: None,
                error: Some(msg),
            },
            None => stored.next().unwrap_or(BulkRowResult {
                guid: None,
                error: Some("row was not processed".into()),
            }),
        })
        .collect();
    Json(bulk_response(&results))
}

/// The bulk calls' body in `/openapi.json`: 1 to [`MAX_BULK_ROWS`] activities.
pub struct BulkRows;

impl utoipa::PartialSchema for BulkRows {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(utoipa::openapi::Ref::from_schema_name(CreateBody::name()))
            .min_items(Some(1))
            .max_items(Some(MAX_BULK_ROWS))
            .into()
    }
}

impl ToSchema for BulkRows {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("LsqActivityRows")
    }
}

/// Checks the 1..=25 row limit of the bulk endpoints.
pub fn check_bulk_len(n: usize) -> LsqResult<()> {
    if n == 0 || n > MAX_BULK_ROWS {
        return Err(LsqError::bad_input(format!(
            "A bulk call takes 1 to {MAX_BULK_ROWS} activities, got {n}"
        )));
    }
    Ok(())
}

/// `POST /v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId`
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId", tag = "LeadSquared",
    operation_id = "lsq_activity_bulk_by_lead", summary = "Post 1 to 25 activities, each on its lead",
    request_body(content = BulkRows, description = "1 to 25 activities, each with its RelatedProspectId"),
    responses((status = 200, description = "One result per row, in order; a refused row does not stop the others", body = docs::BulkAnswer)))]
pub async fn bulk_by_lead(
    State(app): State<AppState>,
    lsq: Lsq,
    body: Body,
) -> LsqResult<Json<Value>> {
    let rows: Vec<CreateBody> = json_body(body).await?;
    check_bulk_len(rows.len())?;
    let (valid, early) = bulk_inputs(rows);
    let stored = app.service.bulk_post_by_lead(&lsq.user, valid).await?;
    Ok(bulk_answer(early, stored))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The text built without a map is byte for byte what the map would render, and a custom
    /// field named Status or Owner takes the map's way.
    #[test]
    fn activity_fields_without_a_map_render_like_the_map() {
        let render = |f: &ActivityFields<'_>| -> (String, String) {
            let mut o = JsonOut::with_capacity(64);
            write_activity_fields(&mut o, f).unwrap();
            let mut out = Vec::new();
            f.mapped(&mut serde_json::Serializer::new(&mut out))
                .unwrap();
            (o.into_string(), String::from_utf8(out).unwrap())
        };
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[("mx_Custom_1", "3"), ("mx_Custom_2", "say \"hi\"\n")],
            &[("mx_Custom_1", "}")],
            &[("Status", "custom"), ("mx_Custom_1", "1")],
            &[("Owner", "x")],
        ];
        for pairs in cases {
            let map: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let values = FieldValues::from_map(&map);
            let owner = uuid::Uuid::parse_str("0193A1B2-0000-7000-8000-0000000000AF").unwrap();
            let f = ActivityFields {
                fields: &values,
                status: "Active \"now\"",
                owner: &owner,
            };
            let (written, mapped) = render(&f);
            assert_eq!(written, mapped, "{pairs:?}");
            let v: Value = serde_json::from_str(&mapped).unwrap();
            assert_eq!(v["Status"], "Active \"now\"", "{pairs:?}");
            // As `Uuid::to_string` writes it, which the answers always showed.
            assert_eq!(v["Owner"], owner.to_string(), "{pairs:?}");
            assert_eq!(v["Owner"], "0193a1b2-0000-7000-8000-0000000000af");
        }
    }
}
