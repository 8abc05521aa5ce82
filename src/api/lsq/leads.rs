//! LSQ lead endpoints: Lead.Create, Lead.Update, Lead.CreateOrUpdate, Lead.Capture, Leads.GetById,
//! Leads.GetByEmailaddress, Leads.GetByQuickSearch, LeadsMetaData.Get, and CreateCustom (a lead
//! created or updated with an activity posted on it).

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use utoipa::ToSchema;

use super::docs;
use super::wire::Text;
use super::{json_body, Lsq, LsqError, LsqResult};
use crate::app::AppState;
use crate::domain::time::format_lsq;
use crate::domain::{Lead, LeadKey, LeadPatch, NewLead};
use crate::service::UpdateBehavior;

/// `{"Attribute":"EmailAddress","Value":"…"}`
#[derive(Deserialize)]
pub struct Attribute {
    #[serde(rename = "Attribute")]
    pub attribute: String,
    #[serde(rename = "Value", default)]
    pub value: Text,
}

/// Attributes kept besides the core columns (plus any `mx_…` custom attribute).
const EXTRA_ATTRIBUTES: [&str; 3] = ["Source", "Company", "JobTitle"];

/// The attributes [`parse_lead`] reads as text (besides `mx_…` and [`EXTRA_ATTRIBUTES`]).
const TEXT_ATTRIBUTES: [&str; 6] = [
    "FirstName",
    "LastName",
    "EmailAddress",
    "Phone",
    "Mobile",
    "OwnerId",
];
/// The attributes [`parse_lead`] reads as 0/1 flags.
const FLAG_ATTRIBUTES: [&str; 2] = ["DoNotCall", "DoNotEmail"];

/// `Attribute` in `/openapi.json`: one of the names [`parse_lead`] takes (white space around it
/// is trimmed) with a text value, a flag with a boolean value, or Capture's `SearchBy`.
impl utoipa::PartialSchema for Attribute {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let ws = "[ \\t\\n\\r]*";
        let names = |names: &[&str], extra: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^{ws}({}{extra}){ws}$", names.join("|"))))
        };
        let text: Vec<&str> = TEXT_ATTRIBUTES
            .iter()
            .chain(&EXTRA_ATTRIBUTES)
            .copied()
            .collect();
        let shape =
            |name: ObjectBuilder,
             value: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
                ObjectBuilder::new()
                    .property("Attribute", name)
                    .required("Attribute")
                    .property("Value", value)
            };
        let flag = OneOfBuilder::new()
            .item(<super::wire::Bool as utoipa::PartialSchema>::schema())
            .item(ObjectBuilder::new().schema_type(Type::Null));
        OneOfBuilder::new()
            .description(Some(
                "A lead attribute: FirstName, LastName, EmailAddress, Phone, Mobile, OwnerId, Source, Company, JobTitle or an mx_ custom field with a text value; DoNotCall/DoNotEmail with a 0/1 flag; or SearchBy (Capture: which attribute finds the lead, EmailAddress by default).",
            ))
            .item(shape(
                names(&text, "|mx_[^\\x00]*"),
                <Text as utoipa::PartialSchema>::schema(),
            ))
            .item(shape(names(&FLAG_ATTRIBUTES, ""), flag.into()))
            .item(shape(
                names(&["SearchBy"], ""),
                ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                        Type::String,
                        Type::Null,
                    ]))
                    .pattern(Some(format!("^{ws}(EmailAddress|Phone|Mobile)?{ws}$")))
                    .into(),
            ))
            .into()
    }
}

impl ToSchema for Attribute {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("LsqAttribute")
    }
}

fn flag(name: &str, v: &str) -> LsqResult<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        _ => Err(LsqError::bad_input(format!(
            "Invalid value '{v}' for {name}: expected 0 or 1"
        ))),
    }
}

/// Turns `[{"Attribute","Value"}]` into a new lead and the requested owner GUID, if any.
pub fn parse_lead(attrs: Vec<(String, String)>) -> LsqResult<(NewLead, Option<String>)> {
    let mut lead = NewLead::default();
    let mut owner = None;
    for (name, value) in attrs {
        let text = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match name.trim() {
            "FirstName" => lead.first_name = text,
            "LastName" => lead.last_name = text,
            "EmailAddress" => lead.email = text,
            "Phone" => lead.phone = text,
            "Mobile" => lead.mobile = text,
            "DoNotCall" => lead.do_not_call = flag("DoNotCall", &value)?,
            "DoNotEmail" => lead.do_not_email = flag("DoNotEmail", &value)?,
            "OwnerId" => owner = text,
            "SearchBy" => {}
            n if n.starts_with("mx_") || EXTRA_ATTRIBUTES.contains(&n) => {
                if let Some(t) = text {
                    lead.attributes.insert(n.to_string(), t);
                }
            }
            other => {
                return Err(LsqError::bad_input(format!(
                    "Unknown lead attribute '{other}': use FirstName, LastName, EmailAddress, Phone, Mobile, DoNotCall, DoNotEmail, OwnerId, {} or mx_ custom fields",
                    EXTRA_ATTRIBUTES.join(", ")
                )))
            }
        }
    }
    Ok((lead, owner))
}

/// `POST /v2/LeadManagement.svc/Lead.Create`
#[utoipa::path(post, path = "/v2/LeadManagement.svc/Lead.Create", tag = "LeadSquared",
    operation_id = "lsq_lead_create", summary = "Create a lead",
    request_body(content = Vec<Attribute>, description = "Attributes: FirstName, LastName, EmailAddress, Phone, Mobile, DoNotCall, DoNotEmail (0/1), OwnerId, Source, Company, JobTitle or mx_ custom fields"),
    responses((status = 200, description = "Created", body = docs::IdAnswer)))]
pub async fn create(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let attrs: Vec<Attribute> = json_body(body).await?;
    let (lead, owner) = parse_lead(
        attrs
            .into_iter()
            .map(|a| (a.attribute, a.value.0))
            .collect(),
    )?;
    let lead = app
        .service
        .create_lead(&lsq.user, lead, owner.as_deref())
        .await?;
    Ok(Json(
        json!({"Status": "Success", "Message": {"Id": lead.guid}}),
    ))
}

/// A lead as LeadSquared's lead objects show it: every value a string (or null).
pub fn lead_json(l: &Lead) -> Value {
    let mut m = Map::new();
    m.insert("ProspectID".into(), json!(l.guid));
    m.insert("FirstName".into(), json!(l.first_name));
    m.insert("LastName".into(), json!(l.last_name));
    m.insert("EmailAddress".into(), json!(l.email));
    m.insert("Phone".into(), json!(l.phone));
    m.insert("Mobile".into(), json!(l.mobile));
    m.insert(
        "DoNotCall".into(),
        json!(if l.do_not_call { "1" } else { "0" }),
    );
    m.insert(
        "DoNotEmail".into(),
        json!(if l.do_not_email { "1" } else { "0" }),
    );
    m.insert("OwnerId".into(), json!(l.owner_guid));
    m.insert("OwnerIdName".into(), json!(l.owner_name));
    m.insert("Score".into(), json!(l.score.to_string()));
    m.insert(
        "EngagementScore".into(),
        json!(l.engagement_score.to_string()),
    );
    m.insert("CreatedOn".into(), json!(format_lsq(l.created_at)));
    m.insert("ModifiedOn".into(), json!(format_lsq(l.updated_at)));
    for (k, v) in &l.attributes {
        m.insert(k.clone(), json!(v));
    }
    Value::Object(m)
}

/// `GET /v2/LeadManagement.svc/Leads.GetById?id=…` — an array with the lead, `[]` when not visible.
#[utoipa::path(get, path = "/v2/LeadManagement.svc/Leads.GetById", tag = "LeadSquared",
    operation_id = "lsq_lead_by_id", summary = "A lead by GUID",
    params(("id" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The lead's GUID")),
    responses((status = 200, description = "The lead, or `[]` when there is none the caller may see", body = Vec<docs::LeadRow>)))]
pub async fn by_id(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let id = lsq.param("id")?;
    let lead = app.service.find_lead(&lsq.user, id).await?;
    Ok(Json(Value::Array(lead.iter().map(lead_json).collect())))
}

/// A lead change as the update calls send it: the values to create a lead from, the same values
/// as a change of an existing lead, the owner named, and the calls' own attributes.
struct LeadChange {
    new: NewLead,
    patch: LeadPatch,
    owner: Option<String>,
    search_by: Option<LeadKey>,
    prospect_id: Option<String>,
}

fn search_key(value: &str) -> LsqResult<LeadKey> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("EmailAddress") => Ok(LeadKey::Email),
        v if v.eq_ignore_ascii_case("Phone") => Ok(LeadKey::Phone),
        v if v.eq_ignore_ascii_case("Mobile") => Ok(LeadKey::Mobile),
        other => Err(LsqError::bad_input(format!(
            "Invalid SearchBy '{other}': expected EmailAddress, Phone or Mobile"
        ))),
    }
}

/// Parses `[{"Attribute","Value"}]` of an update call. An empty or null value clears the
/// attribute; `SearchBy` and `ProspectID` are taken out for the call to use.
fn parse_change(attrs: Vec<Attribute>) -> LsqResult<LeadChange> {
    let mut pairs = Vec::with_capacity(attrs.len());
    let mut search_by = None;
    let mut prospect_id = None;
    for a in attrs {
        let name = a.attribute.trim();
        if name == "SearchBy" {
            if !a.value.0.trim().is_empty() {
                search_by = Some(search_key(&a.value.0)?);
            }
        } else if name.eq_ignore_ascii_case("ProspectID") || name.eq_ignore_ascii_case("Id") {
            prospect_id = Some(a.value.0.trim().to_string()).filter(|v| !v.is_empty());
        } else {
            pairs.push((name.to_string(), a.value.0));
        }
    }
    let mut patch = LeadPatch::default();
    for (name, value) in &pairs {
        let text = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match name.as_str() {
            "FirstName" => patch.first_name = Some(text),
            "LastName" => patch.last_name = Some(text),
            "EmailAddress" => patch.email = Some(text),
            "Phone" => patch.phone = Some(text),
            "Mobile" => patch.mobile = Some(text),
            "DoNotCall" => patch.do_not_call = Some(flag("DoNotCall", value)?),
            "DoNotEmail" => patch.do_not_email = Some(flag("DoNotEmail", value)?),
            "OwnerId" => {}
            n => {
                patch.attributes.insert(n.to_string(), text);
            }
        }
    }
    // The same checks as Lead.Create, and the values a lead created from this change gets.
    let (new, owner) = parse_lead(pairs)?;
    Ok(LeadChange {
        new,
        patch,
        owner,
        search_by,
        prospect_id,
    })
}

async fn change_body(body: Body) -> LsqResult<LeadChange> {
    let attrs: Vec<Attribute> = json_body(body).await?;
    parse_change(attrs)
}

/// `POST /v2/LeadManagement.svc/Lead.Update?leadId=…` — `{"Status":"Success","Message":{"AffectedRows":1}}`.
#[utoipa::path(post, path = "/v2/LeadManagement.svc/Lead.Update", tag = "LeadSquared",
    operation_id = "lsq_lead_update", summary = "Change a lead's attributes",
    params(("leadId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The lead's GUID")),
    request_body(content = Vec<Attribute>, description = "The attributes to change, as Lead.Create takes them; an empty or null value clears one; mx_ attributes are merged"),
    responses((status = 200, description = "Changed", body = docs::LeadUpdated)))]
pub async fn update(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let id = lsq.param("leadId")?.to_string();
    let change = change_body(body).await?;
    app.service
        .update_lead(&lsq.user, &id, change.patch, change.owner.as_deref())
        .await?;
    Ok(Json(
        json!({"Status": "Success", "Message": {"AffectedRows": 1}}),
    ))
}

/// The key a create-or-update finds its lead by: `SearchBy`, else the email, else the phone.
fn default_key(change: &LeadChange) -> Option<LeadKey> {
    change.search_by.or_else(|| {
        if change.new.email.is_some() {
            Some(LeadKey::Email)
        } else if change.new.phone.is_some() {
            Some(LeadKey::Phone)
        } else {
            None
        }
    })
}

/// `POST /v2/LeadManagement.svc/Lead.CreateOrUpdate?postUpdatedLead=…` — finds the lead by
/// `SearchBy` (default: email, then phone) and updates it, or creates it. With
/// `postUpdatedLead=true` the answer carries the lead as `Leads.GetById` shows it.
#[utoipa::path(post, path = "/v2/LeadManagement.svc/Lead.CreateOrUpdate", tag = "LeadSquared",
    operation_id = "lsq_lead_create_or_update", summary = "Update the lead SearchBy finds, or create it",
    params(("postUpdatedLead" = Option<docs::PostUpdatedLead>, Query, description = "true/1: the answer carries the lead")),
    request_body(content = Vec<Attribute>, description = "Lead attributes, with SearchBy (EmailAddress, Phone or Mobile; default: the email, else the phone)"),
    responses((status = 200, description = "Updated or created", body = docs::LeadUpserted)))]
pub async fn create_or_update(
    State(app): State<AppState>,
    lsq: Lsq,
    body: Body,
) -> LsqResult<Json<Value>> {
    let post_updated = match lsq.params.get("postUpdatedLead") {
        None => false,
        Some(v) => flag("postUpdatedLead", v)?,
    };
    let change = change_body(body).await?;
    let key = default_key(&change).ok_or_else(|| {
        LsqError::bad_input(
            "Pass EmailAddress or Phone (or the attribute SearchBy names) to find the lead by",
        )
    })?;
    let owner = change.owner.clone();
    let (lead, _created) = app
        .service
        .create_or_update_lead(
            &lsq.user,
            Some(key),
            change.new,
            change.patch,
            owner.as_deref(),
            UpdateBehavior::Update,
        )
        .await?;
    let mut message = json!({"Id": lead.guid, "AffectedRows": 1});
    if post_updated {
        message["Lead"] = lead_json(&lead);
    }
    Ok(Json(json!({"Status": "Success", "Message": message})))
}

/// `POST /v2/LeadManagement.svc/Lead.Capture?LeadUpdateBehavior=…` — LeadSquared's lead
/// capture: the lead is matched by `ProspectID`, then by `SearchBy` (or email, then phone), and
/// updated as `LeadUpdateBehavior` says; created when nothing matches.
#[utoipa::path(post, path = "/v2/LeadManagement.svc/Lead.Capture", tag = "LeadSquared",
    operation_id = "lsq_lead_capture", summary = "Lead capture: match by ProspectID, SearchBy, email or phone; update or create",
    params(("LeadUpdateBehavior" = Option<docs::LeadUpdateBehavior>, Query, description = "DoNotUpdate, UpdateOnlyEmptyFields or DoNotUpdateUniqueFields (default: update)")),
    request_body(content = Vec<Attribute>, description = "Lead attributes, with SearchBy and ProspectID when known"),
    responses((status = 200, description = "Matched or created", body = docs::LeadCaptured)))]
pub async fn capture(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let behavior = match lsq.params.get("LeadUpdateBehavior").map(str::trim) {
        None | Some("") => UpdateBehavior::Update,
        Some(v) if v.eq_ignore_ascii_case("DoNotUpdate") => UpdateBehavior::DoNotUpdate,
        Some(v) if v.eq_ignore_ascii_case("UpdateOnlyEmptyFields") => {
            UpdateBehavior::UpdateOnlyEmptyFields
        }
        Some(v) if v.eq_ignore_ascii_case("DoNotUpdateUniqueFields") => {
            UpdateBehavior::DoNotUpdateUniqueFields
        }
        Some(other) => {
            return Err(LsqError::bad_input(format!(
                "Invalid LeadUpdateBehavior '{other}': expected DoNotUpdate, UpdateOnlyEmptyFields or DoNotUpdateUniqueFields"
            )))
        }
    };
    let change = change_body(body).await?;
    let by_id = match &change.prospect_id {
        Some(id) => app.service.capture_target(&lsq.user, id).await?,
        None => None,
    };
    // A ProspectID match whose email differs from the one given is another person: LeadSquared
    // then creates a lead, and so does this server.
    let by_id = by_id.filter(|l| match (&change.new.email, &l.email) {
        (Some(given), Some(has)) => given.eq_ignore_ascii_case(has),
        _ => true,
    });
    let owner = change.owner.clone();
    let (lead, created) = match by_id {
        Some(found) => {
            let lead = app
                .service
                .update_found_lead(&lsq.user, found, change.patch, owner.as_deref(), behavior)
                .await?;
            (lead, false)
        }
        None => {
            let key = default_key(&change);
            app.service
                .create_or_update_lead(
                    &lsq.user,
                    key,
                    change.new,
                    change.patch,
                    owner.as_deref(),
                    behavior,
                )
                .await?
        }
    };
    Ok(Json(json!({
        "Status": "Success",
        "Message": {"Id": lead.guid, "RelatedId": null, "IsCreated": created, "AffectedRows": 1},
    })))
}

/// `GET /v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=…` — an array with the lead
/// (emails compared case-insensitively), `[]` when none is visible.
#[utoipa::path(get, path = "/v2/LeadManagement.svc/Leads.GetByEmailaddress", tag = "LeadSquared",
    operation_id = "lsq_lead_by_email", summary = "A lead by email address",
    params(("emailaddress" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The address, compared case-insensitively (a space is read as `+`)")),
    responses((status = 200, description = "The lead, or `[]` when there is none the caller may see", body = Vec<docs::LeadRow>)))]
pub async fn by_email(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    // Sent un-encoded, a `+` of the address arrives as a space; an address has no spaces.
    let email = lsq.param("emailaddress")?.trim().replace(' ', "+");
    let lead = app.service.lead_by_email(&lsq.user, &email).await?;
    Ok(Json(Value::Array(lead.iter().map(lead_json).collect())))
}

/// `GET /v2/LeadManagement.svc/Leads.GetByQuickSearch?key=…` — the visible leads whose first
/// name, last name, full name, email, phone or mobile starts with `key` (case-insensitively), by
/// creation, at most `MAX_QUICK_SEARCH`.
#[utoipa::path(get, path = "/v2/LeadManagement.svc/Leads.GetByQuickSearch", tag = "LeadSquared",
    operation_id = "lsq_lead_quick_search", summary = "Leads whose name, email, phone or mobile starts with a key",
    params(("key" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The prefix, compared case-insensitively")),
    responses((status = 200, description = "At most 50 visible leads, oldest first", body = Vec<docs::LeadRow>)))]
pub async fn quick_search(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let key = lsq.param("key")?.to_string();
    let leads = app.service.quick_search_leads(&lsq.user, &key).await?;
    Ok(Json(Value::Array(leads.iter().map(lead_json).collect())))
}

/// The system lead fields `LeadsMetaData.Get` lists: schema name, display name, data type.
const SYSTEM_FIELDS: [(&str, &str, &str); 15] = [
    ("ProspectID", "Lead Id", "String"),
    ("FirstName", "First Name", "String"),
    ("LastName", "Last Name", "String"),
    ("EmailAddress", "Email", "Email"),
    ("Phone", "Phone Number", "Phone"),
    ("Mobile", "Mobile Number", "Phone"),
    ("DoNotCall", "Do Not Call", "Boolean"),
    ("DoNotEmail", "Do Not Email", "Boolean"),
    ("OwnerId", "Lead Owner", "SearchableDropdown"),
    ("Score", "Score", "Number"),
    ("EngagementScore", "Engagement Score", "Number"),
    ("CreatedOn", "Created On", "DateTime"),
    ("ModifiedOn", "Modified On", "DateTime"),
    ("Source", "Lead Source", "String"),
    ("Company", "Company", "String"),
];

/// `GET /v2/LeadManagement.svc/LeadsMetaData.Get` — the lead schema: the system fields, JobTitle,
/// and each custom (`mx_…`) attribute the tenant's leads hold (as text: the store keeps no
/// custom lead field definitions, so a custom field's type is String).
#[utoipa::path(get, path = "/v2/LeadManagement.svc/LeadsMetaData.Get", tag = "LeadSquared",
    operation_id = "lsq_leads_metadata", summary = "The lead schema: system fields and the tenant's mx_ attributes",
    responses((status = 200, description = "The fields", body = Vec<docs::LeadField>)))]
pub async fn metadata(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let custom = app.service.lead_attribute_names(&lsq.user).await?;
    let row = |schema: &str, display: &str, data_type: &str| {
        json!({
            "SchemaName": schema,
            "DisplayName": display,
            "DataType": data_type,
            "IsMandatory": false,
        })
    };
    let mut rows: Vec<Value> = SYSTEM_FIELDS.iter().map(|(s, d, t)| row(s, d, t)).collect();
    rows.push(row("JobTitle", "Job Title", "String"));
    for name in custom.iter().filter(|n| n.starts_with("mx_")) {
        let display = name.trim_start_matches("mx_").replace('_', " ");
        rows.push(row(name, &display, "String"));
    }
    Ok(Json(Value::Array(rows)))
}

/// CreateCustom's `Activity`: the activity to post on the lead, as `ProspectActivity.svc/Create`
/// takes it without the lead.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = LsqCustomActivity)]
pub struct CustomActivity {
    /// The activity type's event code (required).
    #[serde(rename = "ActivityEvent")]
    #[schema(required = true, nullable = false, value_type = super::wire::Int)]
    activity_event: Option<super::wire::Int>,
    #[serde(rename = "ActivityNote")]
    activity_note: Option<String>,
    /// When it happened (default: now).
    #[serde(rename = "ActivityDateTime")]
    #[schema(schema_with = super::wire::schema::lsq_datetime)]
    activity_date_time: Option<Text>,
    /// The owner, by email address (default: the caller).
    #[serde(rename = "ActivityOwnerEmail")]
    owner_email: Option<String>,
    /// Custom field values; mandatory fields of the type must be given.
    #[serde(rename = "Fields", default)]
    fields: Option<Vec<super::wire::Field>>,
}

/// `ProspectActivity.svc/CreateCustom`'s body: the lead's attributes (with `SearchBy`) and the
/// activity.
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqCreateCustom)]
pub struct CreateCustomBody {
    /// Lead attributes as Lead.CreateOrUpdate takes them, with SearchBy.
    #[serde(rename = "LeadDetails", default)]
    #[schema(required = true, nullable = false, min_items = 1)]
    lead_details: Option<Vec<Attribute>>,
    #[serde(rename = "Activity", default, deserialize_with = "super::wire::object")]
    #[schema(required = true, nullable = false)]
    activity: Option<CustomActivity>,
    /// Despite its name, true skips checking dropdown values against the type's options.
    #[serde(rename = "ValidateDropDownOptions", default)]
    validate_dropdown_options: Option<super::wire::Bool>,
}

/// `POST /v2/ProspectActivity.svc/CreateCustom` — LeadSquared's "Create a Lead and Activity":
/// the lead `SearchBy` finds (default: the email, else the phone) is updated, or created, and the
/// activity posted on it. Answer `{"Id": activity, "RelatedId": lead}`.
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/CreateCustom", tag = "LeadSquared",
    operation_id = "lsq_activity_create_custom", summary = "Update or create the lead SearchBy finds and post an activity on it",
    request_body = CreateCustomBody,
    responses((status = 200, description = "Posted", body = docs::CreatedCustom)))]
pub async fn create_custom(
    State(app): State<AppState>,
    lsq: Lsq,
    body: Body,
) -> LsqResult<Json<Value>> {
    let body: CreateCustomBody = json_body(body).await?;
    let details = body
        .lead_details
        .filter(|d| !d.is_empty())
        .ok_or_else(|| LsqError::bad_input("LeadDetails is required"))?;
    let activity = body
        .activity
        .ok_or_else(|| LsqError::bad_input("Activity is required"))?;
    let change = parse_change(details)?;
    let key = default_key(&change);
    let input = crate::service::ActivityInput {
        event_code: activity.activity_event.map(|i| i.0),
        note: activity.activity_note,
        occurred_at: super::activities::lsq_date(
            "Activity.ActivityDateTime",
            activity.activity_date_time.as_ref(),
        )?,
        owner_email: activity.owner_email,
        fields: activity
            .fields
            .unwrap_or_default()
            .into_iter()
            .map(super::wire::Field::into_input)
            .collect(),
        skip_option_check: body.validate_dropdown_options.unwrap_or_default().0,
    };
    let owner = change.owner.clone();
    let (activity, lead) = app
        .service
        .create_lead_and_activity(
            &lsq.user,
            key,
            change.new,
            change.patch,
            owner.as_deref(),
            input,
        )
        .await?;
    Ok(Json(
        json!({"Status": "Success", "Message": {"Id": activity, "RelatedId": lead}}),
    ))
}
