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
use super::input::body;
use super::render::{created, type_json};
use crate::app::AppState;
use crate::domain::{
    is_salesloft_type, DataType, FieldDef, NewActivityType, TypeKind, FIRST_CUSTOM_CODE,
    FIRST_OPPORTUNITY_CODE,
};
use crate::error::{Error, Unique};
use crate::service::MAX_FIELDS;

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
    event_code: Option<i64>,
    salesloft_type: Option<String>,
    #[serde(default)]
    score: i64,
    #[serde(default)]
    description: String,
    #[serde(default)]
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
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ApiError::invalid("'name' must be 1 to 255 characters long"));
    }
    let kind = match b.kind.as_deref() {
        None | Some("custom") => TypeKind::Custom,
        Some("opportunity") => TypeKind::Opportunity,
        Some(k) => {
            return Err(ApiError::invalid(format!(
                "'kind' must be custom or opportunity, not '{k}'"
            )))
        }
    };
    if let Some(code) = b.event_code {
        let (lo, hi) = match kind {
            TypeKind::Opportunity => (FIRST_OPPORTUNITY_CODE, i64::MAX),
            _ => (FIRST_CUSTOM_CODE, FIRST_OPPORTUNITY_CODE - 1),
        };
        if !(lo..=hi).contains(&code) {
            return Err(ApiError::invalid(format!(
                "'event_code' of a {} type must be {lo}..={hi}, not {code}",
                kind.as_str()
            )));
        }
    }
    if b.direction != 0 && b.direction != 1 {
        return Err(ApiError::invalid(format!(
            "'direction' must be 0 (inbound) or 1 (outbound), not {}",
            b.direction
        )));
    }
    let salesloft_type = match (b.salesloft_type, kind) {
        (Some(t), _) if is_salesloft_type(&t) => t,
        (Some(t), _) => {
            return Err(ApiError::invalid(format!(
                "'salesloft_type' '{t}' is not one of the 25 Salesloft activity types"
            )))
        }
        (None, TypeKind::Opportunity) => "opportunity_stage_change".into(),
        (None, _) => "note".into(),
    };
    if b.fields.len() > MAX_FIELDS {
        return Err(ApiError::invalid(format!(
            "'fields': an activity type has at most {MAX_FIELDS} custom fields"
        )));
    }
    let mut fields: Vec<FieldDef> = Vec::with_capacity(b.fields.len());
    for (i, f) in b.fields.into_iter().enumerate() {
        let numbered = f
            .schema_name
            .strip_prefix("mx_Custom_")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=MAX_FIELDS).contains(&n));
        if !numbered {
            return Err(ApiError::invalid(format!(
                "'fields[{i}].schema_name' must be mx_Custom_1 to mx_Custom_{MAX_FIELDS}, not '{}'",
                f.schema_name
            )));
        }
        if fields.iter().any(|g| g.schema_name == f.schema_name) {
            return Err(ApiError::invalid(format!(
                "'fields[{i}].schema_name': '{}' is given twice",
                f.schema_name
            )));
        }
        let data_type = DataType::parse(&f.data_type).ok_or_else(|| {
            ApiError::invalid(format!(
                "'fields[{i}].data_type' must be one of {}, not '{}'",
                DataType::ALL.map(DataType::as_str).join(", "),
                f.data_type
            ))
        })?;
        if data_type.has_options() && f.options.is_empty() {
            return Err(ApiError::invalid(format!(
                "'fields[{i}].options' must list the options of a {} field",
                data_type.as_str()
            )));
        }
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
