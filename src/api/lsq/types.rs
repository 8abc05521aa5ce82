//! LSQ activity-type endpoints: ActivityTypes.Get, CreateType, GetActivitySetting, CustomActivityType/Update.

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::activities::field_metadata;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use super::docs;
use super::wire::{Bool, Int};
use super::{json_body, json_body_required, Lsq, LsqError, LsqResult};
use crate::app::AppState;
use crate::domain::{ActivityType, DataType, FieldDef, NewActivityType, TypeKind};
use crate::error::{Error, Field, Missing};
use crate::service::TypePatch;

/// Option sets travel as a JSON array serialised into a string; this renders ours that way.
pub fn option_set_string(options: &[String]) -> String {
    if options.is_empty() {
        return String::new();
    }
    let items: Vec<Value> = options
        .iter()
        .map(|o| json!({"Value": o, "Text": o}))
        .collect();
    Value::Array(items).to_string()
}

/// Accepts an option set as the serialised string, a plain array of values, or an array of
/// `{"Value": …}` objects.
fn parse_option_set(field: &str, v: &Value) -> LsqResult<Vec<String>> {
    let bad = || {
        LsqError::bad_input(format!(
            "Invalid OptionSet of field '{field}': expected an array of options"
        ))
    };
    let arr = match v {
        Value::Null => return Ok(Vec::new()),
        Value::String(s) if s.trim().is_empty() => return Ok(Vec::new()),
        Value::String(s) => serde_json::from_str::<Value>(s).map_err(|_| bad())?,
        other => other.clone(),
    };
    // The serialised form is a JSON text of its own, which the body parser did not look into.
    if crate::domain::text::nul_path(&arr).is_some() {
        return Err(LsqError::bad_input(format!(
            "OptionSet of field '{field}' {}",
            crate::domain::text::NO_NUL
        )));
    }
    let Value::Array(items) = arr else {
        return Err(bad());
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Object(o) => o
                .get("Value")
                .or_else(|| o.get("value"))
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| v.as_number().map(|n| n.to_string()))
                })
                .ok_or_else(bad),
            _ => Err(bad()),
        })
        .collect()
}

/// `DataType` of a field definition: one of [`DataType::ALL`], any case; absent or empty = String.
fn data_type_schema() -> RefOr<Schema> {
    let names = DataType::ALL.map(DataType::as_str);
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .enum_values(Some(
            names.iter().copied().map(Some).chain([None, Some("")]),
        ))
        .description(Some(
            "The field's data type (any case); absent or empty means String.",
        ))
        .into()
}

/// `OptionSet`: what [`parse_option_set`] accepts.
fn option_set_schema() -> RefOr<Schema> {
    let scalar = || {
        ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Number,
        ]))
    };
    // `{"Value":…}`, or `{"value":…}` when there is no `Value`.
    let object = utoipa::openapi::schema::AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .property("Value", scalar())
                .required("Value"),
        )
        .item(
            ObjectBuilder::new()
                .property("value", scalar())
                .required("value"),
        );
    let option = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(object);
    OneOfBuilder::new()
        .description(Some(
            "The options: an array of values or of `{\"Value\",\"Text\"}` objects, that array serialised into a string, or empty/null for none.",
        ))
        .item(ArrayBuilder::new().items(option))
        // The serialised form: a JSON array in a string (a pattern can only say it is bracketed;
        // the server parses it), or blank for none.
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[ \\t\\n\\r]*(\\[[\\s\\S]*\\])?[ \\t\\n\\r]*$")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// A custom field of an activity type.
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqFieldDefinition)]
struct FieldBody {
    /// Its name in `Fields` of activities: `mx_Custom_1` to `mx_Custom_50`.
    #[serde(rename = "SchemaName")]
    #[schema(pattern = "^mx_Custom_\\+?0*([1-9]|[1-4][0-9]|50)$")]
    schema_name: String,
    /// Shown name (default: SchemaName).
    #[serde(rename = "DisplayName")]
    display_name: Option<String>,
    #[serde(rename = "DataType")]
    #[schema(schema_with = data_type_schema)]
    data_type: Option<String>,
    #[serde(rename = "IsMandatory", default)]
    is_mandatory: Option<Bool>,
    /// Its place among the fields (default: its place in this list, from 1).
    #[serde(rename = "Sequence")]
    sequence: Option<Int>,
    #[serde(rename = "OptionSet", default)]
    #[schema(schema_with = option_set_schema)]
    option_set: Value,
}

impl FieldBody {
    fn into_def(self, index: usize) -> LsqResult<FieldDef> {
        let data_type = match self.data_type.as_deref().map(str::trim) {
            None | Some("") => DataType::String,
            Some(t) => DataType::parse(t).ok_or_else(|| {
                LsqError::bad_input(format!(
                    "Invalid DataType '{t}' for field '{}': expected one of {}",
                    self.schema_name,
                    DataType::ALL.map(DataType::as_str).join(", ")
                ))
            })?,
        };
        let options = parse_option_set(&self.schema_name, &self.option_set)?;
        Ok(FieldDef {
            display_name: self
                .display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| self.schema_name.clone()),
            schema_name: self.schema_name,
            data_type,
            is_mandatory: self.is_mandatory.unwrap_or_default().0,
            sequence: self.sequence.map_or(index as i64 + 1, |s| s.0),
            options,
        })
    }
}

fn field_defs(fields: Option<Vec<FieldBody>>) -> LsqResult<Vec<FieldDef>> {
    fields
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, f)| f.into_def(i))
        .collect()
}

fn type_row(t: &ActivityType) -> Value {
    json!({
        "ActivityEvent": t.event_code,
        "ActivityEventName": t.name,
        "DisplayName": t.display_name,
        "Score": t.score,
        "Direction": t.direction,
        "EventType": t.kind.lsq_number(),
        "Description": t.description,
        "IsEmailType": t.is_email_type,
        "Id": t.guid,
        "SalesloftType": t.salesloft_type,
    })
}

/// `GET /v2/ProspectActivity.svc/ActivityTypes.Get` — activity types (not opportunity types).
#[utoipa::path(get, path = "/v2/ProspectActivity.svc/ActivityTypes.Get", tag = "LeadSquared",
    operation_id = "lsq_activity_types", summary = "The activity types (not opportunity types)",
    responses((status = 200, description = "The types", body = Vec<docs::ActivityTypeRow>)))]
pub async fn list(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let types = app.service.list_activity_types(&lsq.user).await?;
    let rows: Vec<Value> = types
        .iter()
        .filter(|t| t.kind != TypeKind::Opportunity)
        .map(type_row)
        .collect();
    Ok(Json(Value::Array(rows)))
}

/// A new custom activity type; ActivityEventName is required and unique, ActivityEvent (the code)
/// is chosen when absent.
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqNewActivityType)]
struct CreateTypeBody {
    #[serde(rename = "ActivityEventName")]
    name: Option<String>,
    #[serde(rename = "DisplayName")]
    display_name: Option<String>,
    #[serde(rename = "ActivityEvent")]
    #[schema(schema_with = super::wire::schema::custom_event_code)]
    event_code: Option<Int>,
    #[serde(rename = "Score")]
    #[schema(schema_with = super::wire::schema::score)]
    score: Option<Int>,
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "Direction")]
    #[schema(schema_with = super::wire::schema::type_direction)]
    direction: Option<Int>,
    #[serde(rename = "IsEmailType", default)]
    is_email_type: Option<Bool>,
    #[serde(rename = "SalesloftType")]
    #[schema(schema_with = super::wire::schema::salesloft_type)]
    salesloft_type: Option<String>,
    #[serde(rename = "Fields", default)]
    #[schema(max_items = 50)]
    fields: Option<Vec<FieldBody>>,
}

/// `POST /v2/ProspectActivity.svc/CreateType`
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/CreateType", tag = "LeadSquared",
    operation_id = "lsq_activity_type_create", summary = "Create a custom activity type",
    request_body = CreateTypeBody,
    responses((status = 200, description = "Created", body = docs::CreatedType),
        (status = 403, description = "The caller's role may not create types", body = docs::ErrorBody)))]
pub async fn create(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let b: CreateTypeBody = json_body(body).await?;
    let name = b.name.unwrap_or_default();
    let ty = NewActivityType {
        guid: Uuid::nil(),
        event_code: b.event_code.map(|c| c.0),
        display_name: b.display_name.unwrap_or_else(|| name.clone()),
        name,
        score: b.score.map_or(0, |s| s.0),
        description: b.description.unwrap_or_default(),
        direction: b.direction.map_or(0, |d| d.0),
        kind: TypeKind::Custom,
        is_email_type: b.is_email_type.unwrap_or_default().0,
        salesloft_type: b.salesloft_type.unwrap_or_else(|| "note".into()),
        fields: field_defs(b.fields)?,
    };
    let created = app
        .service
        .create_activity_type(&lsq.user, ty)
        .await
        .map_err(|e| match e {
            Error::Duplicate(_) => LsqError::duplicate(
                "An activity type with the same ActivityEventName or ActivityEvent already exists",
            ),
            other => other.into(),
        })?;
    Ok(Json(
        json!({"Status": "Success", "Message": {"Id": created.event_code}}),
    ))
}

fn setting_json(t: &ActivityType) -> Value {
    let mut v = type_row(t);
    v["ID"] = json!(t.event_code);
    v["Name"] = json!(t.name);
    v["Fields"] = json!(field_metadata(t));
    v
}

/// `GET /v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code=…`
#[utoipa::path(get, path = "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting", tag = "LeadSquared",
    operation_id = "lsq_activity_setting", summary = "An activity type with its fields",
    params(("code" = i64, Query, description = "The type's event code")),
    responses((status = 200, description = "The type", body = docs::ActivitySetting)))]
pub async fn setting(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let raw = lsq.param("code")?;
    let code: i64 = raw.trim().parse().map_err(|_| {
        LsqError::bad_input(format!(
            "The query parameter 'code' must be an integer, got '{raw}'"
        ))
    })?;
    let ty = app
        .service
        .activity_type(&lsq.user, code)
        .await?
        .ok_or_else(|| Error::NotFound(Missing::ActivityType(Some(code))))?;
    Ok(Json(setting_json(&ty)))
}

/// A custom activity type's changes; the type is ActivityEvent or the `code` query parameter.
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqActivityTypeUpdate)]
struct UpdateTypeBody {
    #[serde(rename = "ActivityEvent")]
    event_code: Option<Int>,
    #[serde(rename = "ActivityEventName")]
    name: Option<String>,
    #[serde(rename = "DisplayName")]
    display_name: Option<String>,
    #[serde(rename = "Score")]
    #[schema(schema_with = super::wire::schema::score)]
    score: Option<Int>,
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "Direction")]
    #[schema(schema_with = super::wire::schema::type_direction)]
    direction: Option<Int>,
    #[serde(rename = "SalesloftType")]
    #[schema(schema_with = super::wire::schema::salesloft_type)]
    salesloft_type: Option<String>,
    #[serde(rename = "Fields", default)]
    #[schema(max_items = 50)]
    fields: Option<Vec<FieldBody>>,
}

/// `POST /v2/ProspectActivity.svc/CustomActivityType/Update`
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/CustomActivityType/Update", tag = "LeadSquared",
    operation_id = "lsq_activity_type_update", summary = "Change a custom activity type",
    params(("code" = Option<i64>, Query, description = "The type's event code, when the body has no ActivityEvent")),
    request_body = UpdateTypeBody,
    responses((status = 200, description = "Changed", body = docs::Success),
        (status = 403, description = "The caller's role may not change types", body = docs::ErrorBody)))]
pub async fn update(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let b: UpdateTypeBody = json_body_required(body).await?;
    let code = match (b.event_code, lsq.params.get("code")) {
        (Some(c), _) => c.0,
        (None, Some(raw)) => raw.trim().parse().map_err(|_| {
            LsqError::bad_input(format!(
                "The query parameter 'code' must be an integer, got '{raw}'"
            ))
        })?,
        (None, None) => return Err(Error::Required(Field::EventCode).into()),
    };
    let patch = TypePatch {
        name: b.name,
        display_name: b.display_name,
        score: b.score.map(|s| s.0),
        description: b.description,
        direction: b.direction.map(|d| d.0),
        salesloft_type: b.salesloft_type,
        fields: field_defs(b.fields)?,
    };
    app.service
        .update_activity_type(&lsq.user, code, patch)
        .await
        .map_err(|e| match e {
            Error::Duplicate(_) => {
                LsqError::duplicate("An activity type with the same name already exists")
            }
            other => other.into(),
        })?;
    Ok(Json(json!({"Status": "Success"})))
}
