//! `/api/v1/activity_types`: listing activity types and creating custom and opportunity types.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{forbid_sales_user, Caller};
use super::error::{ApiError, ApiResult};
use super::input::{body, integer};
use super::render::{created, type_json};
use crate::app::AppState;
use crate::domain::{DataType, FieldDef, NewActivityType, TypeKind};
use crate::error::{Error, Unique};

pub(super) async fn list_types(
    State(app): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<Json<Value>> {
    let types = app.service.list_activity_types(&me).await?;
    Ok(Json(
        json!({"data": types.iter().map(type_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldBody {
    schema_name: String,
    display_name: Option<String>,
    data_type: String,
    #[serde(default)]
    is_mandatory: bool,
    #[serde(default, deserialize_with = "integer::optional")]
    sequence: Option<i64>,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTypeBody {
    name: String,
    display_name: Option<String>,
    /// `custom` (default) or `opportunity`.
    kind: Option<String>,
    #[serde(default, deserialize_with = "integer::optional")]
    event_code: Option<i64>,
    salesloft_type: Option<String>,
    #[serde(default, deserialize_with = "integer::required")]
    score: i64,
    #[serde(default)]
    description: String,
    #[serde(default, deserialize_with = "integer::required")]
    direction: i64,
    #[serde(default)]
    is_email_type: bool,
    #[serde(default)]
    fields: Vec<FieldBody>,
}

pub(super) async fn create_type(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    forbid_sales_user(&me, "create activity types")?;
    let b: NewTypeBody = body(b).await?;
    let name = b.name.trim().to_string();
    let kind = match b.kind.as_deref() {
        None | Some("custom") => TypeKind::Custom,
        Some("opportunity") => TypeKind::Opportunity,
        Some(k) => {
            return Err(ApiError::invalid(format!(
                "'kind' must be custom or opportunity, not '{k}'"
            )))
        }
    };
    let salesloft_type = b.salesloft_type.unwrap_or_else(|| match kind {
        TypeKind::Opportunity => "opportunity_stage_change".into(),
        _ => "note".into(),
    });
    // Only the wire-level part here (the data type's spelling); the definitions' rules are the
    // service's, for every dialect.
    let mut fields: Vec<FieldDef> = Vec::with_capacity(b.fields.len());
    for (i, f) in b.fields.into_iter().enumerate() {
        let data_type = DataType::parse(&f.data_type).ok_or_else(|| {
            ApiError::invalid(format!(
                "'fields[{i}].data_type' must be one of {}, not '{}'",
                DataType::ALL.map(DataType::as_str).join(", "),
                f.data_type
            ))
        })?;
        fields.push(FieldDef {
            display_name: f
                .display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| f.schema_name.clone()),
            schema_name: f.schema_name,
            data_type,
            is_mandatory: f.is_mandatory,
            sequence: f.sequence.unwrap_or(i as i64 + 1),
            options: f.options,
        });
    }
    let (wanted_name, wanted_code) = (name.clone(), b.event_code);
    let ty = NewActivityType {
        guid: uuid::Uuid::nil(),
        event_code: b.event_code,
        display_name: b.display_name.unwrap_or_default(),
        name,
        score: b.score,
        description: b.description,
        direction: b.direction,
        kind,
        is_email_type: b.is_email_type,
        salesloft_type,
        fields,
    };
    let t = app
        .service
        .create_activity_type(&me, ty)
        .await
        .map_err(|e| match e {
            Error::Duplicate(unique) => {
                let m = match wanted_code {
                    Some(code) if unique != Unique::TypeName => {
                        format!("'event_code': {code} is taken by another activity type")
                    }
                    _ => format!(
                        "'name': an activity type named '{wanted_name}' already exists (names are unique case-insensitively)"
                    ),
                };
                ApiError::new(StatusCode::CONFLICT, "conflict", m)
            }
            other => other.into(),
        })?;
    Ok(created(type_json(&t)))
}
