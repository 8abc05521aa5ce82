//! LSQ lead endpoints: Lead.Create and Leads.GetById.

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
use crate::domain::{Lead, NewLead};

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
