//! `ProspectActivity.svc/RetrieveRecentlyModified`: the tenant's activities on leads modified in a
//! date range, paged, in LeadSquared's documented shape — the call sync jobs poll.

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::wire::{self, Int, Paging, Sorting, Text};
use super::{json_body, Lsq, LsqError, LsqResult};
use crate::app::AppState;
use crate::domain::time::{format_lsq, parse_lsq_datetime, YEAR_RANGE};
use crate::domain::{ActivitySort, ActivityView, Micros};
use crate::service::RecentFilter;

/// The body's `Parameter`: the modification window (both required) and an optional type.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = LsqRecentParameter)]
pub struct Parameter {
    #[serde(rename = "FromDate")]
    #[schema(schema_with = super::wire::schema::lsq_datetime_required, required = true)]
    from_date: Option<Text>,
    #[serde(rename = "ToDate")]
    #[schema(schema_with = super::wire::schema::lsq_datetime_required, required = true)]
    to_date: Option<Text>,
    #[serde(rename = "ActivityEvent")]
    activity_event: Option<Int>,
}

/// RetrieveRecentlyModified's body.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = LsqRecentBody)]
pub struct RecentBody {
    #[serde(rename = "Parameter", default, deserialize_with = "wire::object")]
    #[schema(required = true, nullable = false)]
    parameter: Option<Parameter>,
    #[serde(rename = "Paging", default, deserialize_with = "wire::object")]
    paging: Option<Paging>,
    #[serde(rename = "Sorting", default, deserialize_with = "wire::object")]
    #[schema(schema_with = wire::schema::sorting_by_time)]
    sorting: Option<Sorting>,
}

/// A required `yyyy-MM-dd HH:mm:ss` of the body's `Parameter`.
fn date(name: &str, v: Option<&Text>) -> LsqResult<Micros> {
    let s = v
        .map(|t| t.0.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            LsqError::bad_input(format!(
                "Parameter.{name} is required (yyyy-MM-dd HH:mm:ss)"
            ))
        })?;
    parse_lsq_datetime(s).ok_or_else(|| {
        LsqError::bad_input(format!(
            "Invalid Parameter.{name} '{s}': expected yyyy-MM-dd HH:mm:ss with {YEAR_RANGE}"
        ))
    })
}

/// The body's required `Parameter.FromDate`–`Parameter.ToDate`, in microseconds, the range taking
/// the whole last second of ToDate (LeadSquared's dates carry no fraction).
pub(super) fn date_range(from: Option<&Text>, to: Option<&Text>) -> LsqResult<(Micros, Micros)> {
    let from = date("FromDate", from)?;
    let to = date("ToDate", to)?.saturating_add(999_999);
    if to < from {
        return Err(LsqError::bad_input(
            "Parameter.ToDate must not be before Parameter.FromDate",
        ));
    }
    Ok((from, to))
}

/// One row: the activity as `Retrieve` shows it, with its lead and its modification time.
fn row(a: &ActivityView) -> Value {
    let mut m = Map::new();
    m.insert("Id".into(), json!(a.guid));
    m.insert("ProspectActivityId".into(), json!(a.guid));
    m.insert("RelatedProspectId".into(), json!(a.lead_guid));
    m.insert("EventCode".into(), json!(a.event_code));
    m.insert("EventName".into(), json!(a.type_display_name));
    m.insert("ActivityScore".into(), json!(a.score));
    m.insert("ActivityType".into(), json!(a.type_kind.lsq_number()));
    m.insert("ActivityNote".into(), json!(a.note));
    m.insert("Status".into(), json!(a.status));
    m.insert("Owner".into(), json!(a.owner_guid));
    m.insert("CreatedOn".into(), json!(format_lsq(a.occurred_at)));
    m.insert("ModifiedOn".into(), json!(format_lsq(a.updated_at)));
    m.insert("CreatedByName".into(), json!(a.created_by_name));
    m.insert("ModifiedByName".into(), json!(a.modified_by_name));
    Value::Object(m)
}

/// `POST /v2/ProspectActivity.svc/RetrieveRecentlyModified` — body
/// `{"Parameter":{"FromDate","ToDate"[,"ActivityEvent"]},"Paging":{"PageIndex","PageSize"},
/// "Sorting":{"ColumnName":"CreatedOn"|"ModifiedOn","Direction":1|0}}`; answers
/// `{"RecordCount":n,"ProspectActivities":[…]}`.
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/RetrieveRecentlyModified", tag = "LeadSquared",
    operation_id = "lsq_activity_recently_modified", summary = "The tenant's activities modified in a date range, one page",
    request_body(content = RecentBody, description = "Parameter.FromDate and Parameter.ToDate (yyyy-MM-dd HH:mm:ss) are required"),
    responses((status = 200, description = "The page", body = super::docs::RecentPage)))]
pub async fn recently_modified(
    State(app): State<AppState>,
    lsq: Lsq,
    body: Body,
) -> LsqResult<Json<Value>> {
    let b: RecentBody = json_body(body).await?;
    let p = b.parameter.unwrap_or_default();
    let (from, to) = date_range(p.from_date.as_ref(), p.to_date.as_ref())?;
    let (offset, limit) = b.paging.unwrap_or_default().window()?;
    let sorting = b.sorting.unwrap_or_default();
    let sort = match sorting.column.as_deref().map(str::trim) {
        None | Some("") => ActivitySort::UpdatedAt,
        Some(c) if c.eq_ignore_ascii_case("ModifiedOn") => ActivitySort::UpdatedAt,
        Some(c)
            if c.eq_ignore_ascii_case("CreatedOn")
                || c.eq_ignore_ascii_case("ActivityDateTime") =>
        {
            ActivitySort::OccurredAt
        }
        Some(c) => {
            return Err(LsqError::bad_input(format!(
                "Sorting.ColumnName '{c}' is not supported here: use CreatedOn or ModifiedOn"
            )))
        }
    };
    let filter = RecentFilter {
        updated_from: from,
        updated_to: to,
        event_code: p.activity_event.map(|i| i.0),
        sort,
        descending: sorting.descending()?,
        offset,
        limit,
    };
    let page = app.service.recently_modified(&lsq.user, filter).await?;
    Ok(Json(json!({
        "RecordCount": page.total,
        "ProspectActivities": page.rows.iter().map(row).collect::<Vec<_>>(),
    })))
}
