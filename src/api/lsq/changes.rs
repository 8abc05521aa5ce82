//! `ProspectActivity.svc/RetrieveActivityChange` (LeadSquared's "Get Activity Change History"):
//! the tenant's activity changes in a date range, with each change's old and new values.

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::wire::{self, Int, Paging, Text};
use super::{json_body, Lsq, LsqError, LsqResult};
use crate::app::AppState;
use crate::domain::history::ActivityChange;
use crate::domain::time::{format_lsq, parse_rfc3339};
use crate::service::ChangeFilter;

/// The most event codes `ActivityEvents` may list.
const MAX_EVENTS: usize = 100;

/// The body's `Parameter`: the change window (both required), and either event codes or one
/// activity.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = LsqChangeParameter)]
pub struct Parameter {
    #[serde(rename = "FromDate")]
    #[schema(schema_with = super::wire::schema::lsq_datetime_required, required = true)]
    from_date: Option<Text>,
    #[serde(rename = "ToDate")]
    #[schema(schema_with = super::wire::schema::lsq_datetime_required, required = true)]
    to_date: Option<Text>,
    /// Only changes of activities of these types (not with `ActivityID`).
    #[serde(rename = "ActivityEvents")]
    #[schema(value_type = Option<Vec<wire::Int>>, max_items = 100)]
    activity_events: Option<Vec<Int>>,
    /// Only changes of this activity (its GUID; not with `ActivityEvents`).
    #[serde(rename = "ActivityID")]
    #[schema(value_type = Option<wire::Text>)]
    activity_id: Option<Text>,
}

/// RetrieveActivityChange's body.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = LsqChangeBody)]
pub struct ChangeBody {
    #[serde(rename = "Parameter", default, deserialize_with = "wire::object")]
    #[schema(required = true, nullable = false)]
    parameter: Option<Parameter>,
    #[serde(rename = "Paging", default, deserialize_with = "wire::object")]
    paging: Option<Paging>,
}

/// The tracked values of a change under LeadSquared's names: `ActivityEvent_Note`, `Owner`,
/// `Status`, `ActivityDateTime`, each custom field by its schema name; the native API's
/// `pinned`, `tags` and `static_data` as they are.
fn lsq_values(v: &Option<Value>) -> Value {
    let Some(Value::Object(m)) = v else {
        return Value::Null;
    };
    let mut out = Map::new();
    for (k, v) in m {
        match k.as_str() {
            "note" => {
                out.insert("ActivityEvent_Note".into(), v.clone());
            }
            "owner_guid" => {
                out.insert("Owner".into(), v.clone());
            }
            "status" => {
                out.insert("Status".into(), v.clone());
            }
            "occurred_at" => {
                let text = v.as_str().and_then(parse_rfc3339).map(format_lsq);
                out.insert("ActivityDateTime".into(), json!(text));
            }
            "fields" => {
                if let Value::Object(f) = v {
                    out.extend(f.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// One change: the activity (numbers as strings, as LeadSquared's example shows them), who
/// changed it when and through which API, and the values before and after.
fn row(c: &ActivityChange) -> Value {
    json!({
        "Activity": {
            "ProspectActivityId": c.activity_guid,
            "RelatedProspectId": c.lead_guid,
            "ActivityEvent": c.event_code.to_string(),
        },
        "ChangeId": c.id.to_string(),
        "Action": c.action,
        "Source": c.api,
        "ModifiedOn": format_lsq(c.changed_at),
        "ModifiedBy": c.user_guid,
        "ModifiedByName": c.user_name,
        "OldValues": lsq_values(&c.before),
        "NewValues": lsq_values(&c.after),
    })
}

/// `POST /v2/ProspectActivity.svc/RetrieveActivityChange` — body
/// `{"Parameter":{"FromDate","ToDate"[,"ActivityEvents":[…]|,"ActivityID"]},
/// "Paging":{"PageIndex","PageSize"}}`; answers `{"RecordCount":n,"Activities":[…]}`, oldest
/// change first.
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/RetrieveActivityChange", tag = "LeadSquared",
    operation_id = "lsq_activity_change_history", summary = "Activity changes in a date range, with old and new values, one page",
    request_body(content = ChangeBody, description = "Parameter.FromDate and Parameter.ToDate (yyyy-MM-dd HH:mm:ss) are required; ActivityEvents or ActivityID, not both"),
    responses((status = 200, description = "The page", body = super::docs::ChangePage)))]
pub async fn retrieve_changes(
    State(app): State<AppState>,
    lsq: Lsq,
    body: Body,
) -> LsqResult<Json<Value>> {
    let b: ChangeBody = json_body(body).await?;
    let p = b.parameter.unwrap_or_default();
    let (from, to) = super::recent::date_range(p.from_date.as_ref(), p.to_date.as_ref())?;
    let events: Vec<i64> = p
        .activity_events
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.0)
        .collect();
    if events.len() > MAX_EVENTS {
        return Err(LsqError::bad_input(format!(
            "Parameter.ActivityEvents may list at most {MAX_EVENTS} event codes, got {}",
            events.len()
        )));
    }
    let activity = p
        .activity_id
        .map(|t| t.0.trim().to_string())
        .filter(|s| !s.is_empty());
    if activity.is_some() && !events.is_empty() {
        return Err(LsqError::bad_input(
            "Pass either Parameter.ActivityEvents or Parameter.ActivityID, not both",
        ));
    }
    let (offset, limit) = b.paging.unwrap_or_default().window()?;
    let filter = ChangeFilter {
        from,
        to,
        event_codes: events,
        activity_guid: activity,
        offset,
        limit,
    };
    let page = app.service.activity_changes(&lsq.user, filter).await?;
    Ok(Json(json!({
        "RecordCount": page.total,
        "Activities": page.rows.iter().map(row).collect::<Vec<_>>(),
    })))
}
