//! LSQ opportunity endpoints: Capture, GetOpportunityDetails, GetOpportunitiesOfLead, bulk activities
//! by opportunity and GetActivitiesOfOpportunity with its flat string rows, as LeadSquared
//! documents them.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::activities::{bulk_answer, bulk_inputs, check_bulk_len, fields_with_values, CreateBody};
use super::leads::{parse_lead, Attribute};
use utoipa::ToSchema;

use super::docs;
use super::wire::{self, Bool, Field, Int, Paging, Sorting, Text};
use super::{json_body, Lsq, LsqError, LsqResult};
use crate::api::json_out::{respond, JsonOut};
use crate::app::AppState;
use crate::domain::time::{format_lsq, parse_lsq_datetime, YEAR_RANGE};
use crate::domain::{ActivitySort, ActivityType, ActivityView, DataType, Lead, LeadKey};
use crate::error::Error;
use crate::service::{ActivityInput, CaptureInput, OpportunityActivityFilter, OpportunityContext};

/// The opportunity of a Capture.
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqNewOpportunity)]
pub struct OpportunityBody {
    /// The opportunity type's event code (required).
    #[serde(rename = "OpportunityEventCode")]
    event_code: Option<Int>,
    #[serde(rename = "OpportunityNote")]
    note: Option<String>,
    /// When it happened (default: now).
    #[serde(rename = "OpportunityDateTime")]
    #[schema(schema_with = wire::schema::lsq_datetime)]
    date_time: Option<Text>,
    #[serde(rename = "Fields", default)]
    fields: Option<Vec<Field>>,
    #[serde(rename = "ValidateDropDownOptions", default)]
    validate_dropdown_options: Option<Bool>,
}

/// Capture's body: the lead (found by `SearchBy` among LeadDetails: EmailAddress, the default,
/// Phone or Mobile; created when there is none) and the opportunity (required).
#[derive(Deserialize, ToSchema)]
#[schema(as = LsqCapture)]
pub struct CaptureBody {
    #[serde(rename = "LeadDetails", default)]
    lead_details: Option<Vec<Attribute>>,
    #[serde(rename = "Opportunity", default, deserialize_with = "wire::object")]
    opportunity: Option<OpportunityBody>,
}

impl CaptureBody {
    /// The lead to find or create and the opportunity to log, each attribute checked (a pure
    /// function of the body, apart from the handler so the fuzz targets in fuzz/ can call it).
    pub fn into_input(self) -> LsqResult<CaptureInput> {
        let attrs: Vec<(String, String)> = self
            .lead_details
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.attribute, a.value.0))
            .collect();
        let search_by = match attrs
            .iter()
            .find(|(k, _)| k.trim() == "SearchBy")
            .map(|(_, v)| v.trim())
        {
            None | Some("") | Some("EmailAddress") => LeadKey::Email,
            Some("Phone") => LeadKey::Phone,
            Some("Mobile") => LeadKey::Mobile,
            Some(other) => {
                return Err(LsqError::bad_input(format!(
                    "Invalid SearchBy '{other}': expected EmailAddress, Phone or Mobile"
                )))
            }
        };
        let (lead, owner) = parse_lead(attrs)?;
        let opp = self
            .opportunity
            .ok_or_else(|| LsqError::from(Error::Required(crate::error::Field::Opportunity)))?;
        let occurred_at = match opp
            .date_time
            .as_ref()
            .map(|t| t.0.trim())
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => Some(parse_lsq_datetime(s).ok_or_else(|| {
                LsqError::bad_input(format!(
                    "Invalid OpportunityDateTime '{s}': expected yyyy-MM-dd HH:mm:ss with {YEAR_RANGE}"
                ))
            })?),
        };
        Ok(CaptureInput {
            lead,
            lead_owner_guid: owner,
            search_by,
            opportunity: ActivityInput {
                event_code: opp.event_code.map(|c| c.0),
                note: opp.note,
                occurred_at,
                owner_email: None,
                fields: opp
                    .fields
                    .unwrap_or_default()
                    .into_iter()
                    .map(Field::into_input)
                    .collect(),
                skip_option_check: opp.validate_dropdown_options.unwrap_or_default().0,
            },
        })
    }
}

/// `POST /v2/OpportunityManagement.svc/Capture`
#[utoipa::path(post, path = "/v2/OpportunityManagement.svc/Capture", tag = "LeadSquared",
    operation_id = "lsq_opportunity_capture", summary = "Find or create a lead and post an opportunity on it",
    request_body = CaptureBody,
    responses((status = 200, description = "Captured", body = docs::Captured)))]
pub async fn capture(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let b: CaptureBody = json_body(body).await?;
    let input = b.into_input()?;
    let (opportunity, lead) = app.service.capture(&lsq.user, input).await?;
    Ok(Json(json!({
        "Status": "Success",
        "Message": {"Id": opportunity, "RelatedId": lead, "CreatedOpportunityId": opportunity},
    })))
}

/// `GET /v2/OpportunityManagement.svc/GetOpportunityDetails?OpportunityId=…`
#[utoipa::path(get, path = "/v2/OpportunityManagement.svc/GetOpportunityDetails", tag = "LeadSquared",
    operation_id = "lsq_opportunity_details", summary = "One opportunity with its fields",
    params(("OpportunityId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The opportunity's GUID")),
    responses((status = 200, description = "The opportunity", body = docs::OpportunityDetails)))]
pub async fn details(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let id = lsq.param("OpportunityId")?;
    let ctx = app.service.opportunity(&lsq.user, id).await?;
    let o = &ctx.opportunity;
    Ok(Json(json!({
        "ID": o.guid,
        "OpportunityId": o.guid,
        "Name": ctx.opportunity_type.name,
        "DisplayName": ctx.opportunity_type.display_name,
        "OpportunityEventCode": o.event_code,
        "ProspectId": ctx.lead.guid,
        "CreatedOn": format_lsq(o.occurred_at),
        "ModifiedOn": format_lsq(o.updated_at),
        "Fields": fields_with_values(&ctx.opportunity_type, o),
    })))
}

/// The lead columns of a flat row, in the order of LeadSquared's GetActivitiesOfOpportunity
/// example.
const LEAD_COLUMNS: [&str; 9] = [
    "ProspectId",
    "FirstName",
    "LastName",
    "EmailAddress",
    "Phone",
    "DoNotCall",
    "DoNotEmail",
    "LeadName",
    "LeadOwner",
];
/// The activity columns of a flat row (custom fields follow them), in the order of that example.
const ACTIVITY_COLUMNS: [&str; 10] = [
    "ActivityType",
    "ActivityEvent",
    "Score",
    "PACreatedOn",
    "PAModifiedOn",
    "ActivityEvent_Note",
    "IP_Latitude",
    "IP_Longitude",
    "PACreatedByName",
    "Status",
];
const OPPORTUNITY_COLUMNS: [&str; 5] = [
    "O_ProspectActivityId",
    "O_ActivityEventName",
    "O_ActivityEvent",
    "O_Status",
    "O_Owner",
];

/// Maps a column name a client may send (including LeadSquared's unprefixed aliases) to ours.
fn canonical_column(name: &str) -> &str {
    match name {
        "CreatedOn" | "ActivityDateTime" => "PACreatedOn",
        "ModifiedOn" => "PAModifiedOn",
        "CreatedByName" => "PACreatedByName",
        "ActivityNote" | "Notes" | "Note" => "ActivityEvent_Note",
        other => other,
    }
}

fn is_custom_field(types: &[ActivityType], name: &str) -> bool {
    types
        .iter()
        .any(|t| t.fields.iter().any(|f| f.schema_name == name))
}

/// The activity columns `Include_CSV` keeps (`None` = all); unknown names are refused.
fn included_columns(csv: Option<&str>, types: &[ActivityType]) -> LsqResult<Option<Vec<String>>> {
    let Some(csv) = csv.filter(|c| !c.trim().is_empty()) else {
        return Ok(None);
    };
    let mut cols = Vec::new();
    for raw in csv.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let c = canonical_column(raw);
        if c == "ProspectActivityId" || c == "ProspectId" {
            continue; // identity columns are always returned
        }
        if !ACTIVITY_COLUMNS.contains(&c) && !is_custom_field(types, c) {
            return Err(LsqError::bad_input(format!(
                "Columns.Include_CSV: unknown column '{raw}'; use activity columns ({}) or custom field schema names",
                ACTIVITY_COLUMNS.join(", ")
            )));
        }
        cols.push(c.to_string());
    }
    Ok(Some(cols))
}

/// Maps `Sorting.ColumnName` to a store order. Lead, opportunity and `Total` columns hold the same
/// value on every row of one opportunity, so sorting by them keeps the default order (PACreatedOn,
/// then id) in the requested direction: a total order that the opportunity index serves.
fn sort_for(column: Option<&str>, types: &[ActivityType]) -> LsqResult<ActivitySort> {
    let Some(raw) = column.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(ActivitySort::OccurredAt);
    };
    let c = canonical_column(raw);
    let sort = match c {
        _ if LEAD_COLUMNS.contains(&c) || OPPORTUNITY_COLUMNS.contains(&c) || c == "Total" => {
            ActivitySort::OccurredAt
        }
        _ if c.starts_with("O_mx_") => ActivitySort::OccurredAt,
        "ProspectActivityId" => ActivitySort::Guid,
        // ActivityType (1 system, 2 custom) follows the event-code ranges, so the code orders it.
        "ActivityType" | "ActivityEvent" => ActivitySort::EventCode,
        "Score" => ActivitySort::Score,
        "PACreatedOn" => ActivitySort::OccurredAt,
        "PAModifiedOn" => ActivitySort::UpdatedAt,
        "ActivityEvent_Note" => ActivitySort::Note,
        "IP_Latitude" | "IP_Longitude" => ActivitySort::OccurredAt,
        "PACreatedByName" => ActivitySort::CreatedByName,
        "Status" => ActivitySort::Status,
        _ if is_custom_field(types, c) => {
            let mut defs = types
                .iter()
                .flat_map(|t| t.fields.iter())
                .filter(|f| f.schema_name == c);
            let numeric = defs.all(|f| f.data_type == DataType::Number);
            ActivitySort::Field {
                schema_name: c.to_string(),
                numeric,
            }
        }
        _ => {
            return Err(LsqError::bad_input(format!(
                "Sorting.ColumnName '{raw}' is not a column of this list"
            )))
        }
    };
    Ok(sort)
}

/// The opportunity whose `O_` columns every flat row carries, with its field values parsed once
/// for the whole page.
struct OppColumns<'a> {
    opp: &'a ActivityView,
    ty: Option<&'a ActivityType>,
    values: BTreeMap<String, String>,
}

impl<'a> OppColumns<'a> {
    fn of(opp: &'a ActivityView, ty: Option<&'a ActivityType>) -> OppColumns<'a> {
        OppColumns {
            opp,
            ty,
            values: opp.fields.to_map(),
        }
    }
}

/// One flat row's columns in order, each a string or null. Setting a column that is already
/// there replaces its value where it stands (a custom field named like a fixed column, say
/// `Status`), as an insertion-ordered map would.
struct FlatRow<'a>(Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>);

impl<'a> FlatRow<'a> {
    /// The value slot of `column`, if the row has it.
    fn slot(&mut self, column: &str) -> Option<&mut Option<Cow<'a, str>>> {
        self.0
            .iter_mut()
            .find(|(c, _)| c == column)
            .map(|(_, value)| value)
    }

    fn set(&mut self, column: impl Into<Cow<'a, str>>, value: Option<Cow<'a, str>>) {
        let column = column.into();
        match self.slot(&column) {
            Some(slot) => *slot = value,
            None => self.0.push((column, value)),
        }
    }

    /// `column` at the end with a null value, unless the row has it already.
    fn add_null(&mut self, column: &'a str) {
        if self.slot(column).is_none() {
            self.0.push((Cow::Borrowed(column), None));
        }
    }

    fn set_str(&mut self, column: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        self.set(column, Some(value.into()));
    }

    fn write(&self, o: &mut JsonOut) {
        o.begin_object();
        for (column, value) in &self.0 {
            o.key_str(column);
            o.opt_str(value.as_deref());
        }
        o.end_object();
    }
}

/// One flat row: lead columns, the activity's columns (restricted by `include`; `values` are its
/// parsed field values), `Total`, and the opportunity's `O_` columns. Every value is a string or
/// null.
fn flat_row<'a>(
    lead: &'a Lead,
    a: &'a ActivityView,
    a_type: Option<&'a ActivityType>,
    values: &'a BTreeMap<String, String>,
    opp: &'a OppColumns<'_>,
    include: Option<&'a [String]>,
    total: u64,
) -> FlatRow<'a> {
    let mut m = FlatRow(Vec::with_capacity(48));
    let name = crate::domain::join_name(
        lead.first_name.as_deref().unwrap_or_default(),
        lead.last_name.as_deref().unwrap_or_default(),
    );
    let text = |s: &'a Option<String>| s.as_deref().map(Cow::Borrowed);
    m.set_str("ProspectId", lead.guid.to_string());
    m.set("FirstName", text(&lead.first_name));
    m.set("LastName", text(&lead.last_name));
    m.set("EmailAddress", text(&lead.email));
    m.set("Phone", text(&lead.phone));
    m.set_str("DoNotCall", if lead.do_not_call { "1" } else { "0" });
    m.set_str("DoNotEmail", if lead.do_not_email { "1" } else { "0" });
    m.set_str("LeadName", name);
    m.set_str("LeadOwner", lead.owner_name.as_str());
    m.set_str("ProspectActivityId", a.guid.to_string());
    let keep = |c: &str| include.is_none_or(|cols| cols.iter().any(|x| x == c));
    let non_empty = |s: &'a str| (!s.is_empty()).then_some(Cow::Borrowed(s));
    let activity_values: [(&str, Option<Cow<'a, str>>); 10] = [
        (
            "ActivityType",
            Some(a.type_kind.lsq_number().to_string().into()),
        ),
        ("ActivityEvent", Some(a.event_code.to_string().into())),
        ("Score", Some(a.score.to_string().into())),
        ("PACreatedOn", Some(format_lsq(a.occurred_at).into())),
        ("PAModifiedOn", Some(format_lsq(a.updated_at).into())),
        ("ActivityEvent_Note", non_empty(&a.note)),
        ("IP_Latitude", None),
        ("IP_Longitude", None),
        ("PACreatedByName", non_empty(&a.created_by_name)),
        ("Status", non_empty(&a.status)),
    ];
    for (k, v) in activity_values {
        if keep(k) {
            m.set(k, v);
        }
    }
    let custom_names: Vec<&str> = match a_type {
        Some(t) => t.fields.iter().map(|f| f.schema_name.as_str()).collect(),
        None => values.keys().map(String::as_str).collect(),
    };
    for c in custom_names {
        if keep(c) {
            m.set(c, values.get(c).map(|v| Cow::Borrowed(v.as_str())));
        }
    }
    if let Some(cols) = include {
        // Custom columns asked for that this activity's type does not have: present, null.
        for c in cols.iter().filter(|c| c.starts_with("mx_")) {
            m.add_null(c);
        }
    }
    let OppColumns {
        opp,
        ty: opp_type,
        values: opp_values,
    } = opp;
    m.set_str("O_ProspectActivityId", opp.guid.to_string());
    m.set_str("Total", total.to_string());
    m.set_str("O_ActivityEventName", opp.type_display_name.as_str());
    m.set_str("O_ActivityEvent", opp.event_code.to_string());
    if let Some(t) = opp_type {
        for f in &t.fields {
            m.set_str(
                format!("O_{}", f.schema_name),
                opp_values.get(&f.schema_name).map_or("", String::as_str),
            );
        }
    }
    m.set_str("O_Status", opp.status.as_str());
    m.set_str("O_Owner", opp.owner_guid.to_string());
    m
}

/// `{"RecordCount": total, "List": rows}`, the flat list endpoints' answer.
fn flat_page(total: u64, rows: &[FlatRow<'_>]) -> Response {
    let mut o = JsonOut::with_capacity(256 + rows.len() * 2048);
    o.begin_object();
    o.key("RecordCount");
    o.uint(total);
    o.key("List");
    o.begin_array();
    for row in rows {
        row.write(&mut o);
    }
    o.end_array();
    o.end_object();
    respond(Ok(o))
}

/// Which activity columns to answer.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = LsqColumns)]
pub struct Columns {
    /// Comma-separated activity columns and custom field schema names (default: all).
    #[serde(rename = "Include_CSV")]
    #[schema(schema_with = include_csv_schema)]
    include_csv: Option<String>,
}

/// `Include_CSV` in `/openapi.json`: the names [`included_columns`] takes whatever the tenant's
/// types (the fixed activity columns, their aliases, the identity columns), comma-separated. A
/// custom field's schema name is taken too; the pattern cannot know the tenant's fields.
fn include_csv_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let aliases = [
        "CreatedOn",
        "ActivityDateTime",
        "ModifiedOn",
        "CreatedByName",
        "ActivityNote",
        "Notes",
        "Note",
        "ProspectActivityId",
        "ProspectId",
    ];
    let names: Vec<&str> = ACTIVITY_COLUMNS.iter().chain(&aliases).copied().collect();
    let item = format!("[ \\t\\n\\r]*({})?[ \\t\\n\\r]*", names.join("|"));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(format!("^{item}(,{item})*$")))
        .description(Some(
            "Comma-separated activity columns (and the schema names of the tenant's custom fields); absent, null or empty: all.",
        ))
        .into()
}

/// `Sorting` of the flat lists: the names [`sort_for`] takes whatever the tenant's types (a
/// custom field's schema name is taken when one of the tenant's types has it).
fn sorting_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let aliases = [
        "CreatedOn",
        "ActivityDateTime",
        "ModifiedOn",
        "CreatedByName",
        "ActivityNote",
        "Notes",
        "Note",
        "ProspectActivityId",
        "Total",
    ];
    let names: Vec<&str> = ACTIVITY_COLUMNS
        .iter()
        .chain(&LEAD_COLUMNS)
        .chain(&OPPORTUNITY_COLUMNS)
        .chain(&aliases)
        .copied()
        .collect();
    wire::schema::sorting(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .pattern(Some(format!(
                "^[ \\t\\n\\r]*({}|O_mx_.*|mx_.+)?[ \\t\\n\\r]*$",
                names.join("|")
            )))
            .description(Some(
                "An activity, lead or opportunity (`O_`) column, or a custom field's schema name; default PACreatedOn.",
            )),
    )
}

/// The flat lists' body (an empty body is `{}`). GetActivitiesOfOpportunity sorts by
/// `Sorting.ColumnName` (an activity column, custom field, or lead/opportunity column);
/// GetOpportunitiesOfLead checks Sorting but lists newest first. `Columns` apply to both.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = LsqFlatList)]
pub struct ListBody {
    #[serde(rename = "Columns", default, deserialize_with = "wire::object")]
    columns: Option<Columns>,
    #[serde(rename = "Paging", default, deserialize_with = "wire::object")]
    paging: Option<Paging>,
    #[serde(rename = "Sorting", default, deserialize_with = "wire::object")]
    #[schema(schema_with = sorting_schema)]
    sorting: Option<Sorting>,
}

impl ListBody {
    /// GetActivitiesOfOpportunity's columns (`None` = all) and its filter, order and window,
    /// checked against the tenant's activity `types` (whose custom fields are columns too). A pure
    /// function of the body, apart from the handler so the fuzz targets in fuzz/ can call it.
    pub fn activities_request(
        self,
        event_code: Option<i64>,
        types: &[ActivityType],
    ) -> LsqResult<(Option<Vec<String>>, OpportunityActivityFilter)> {
        let include = included_columns(
            self.columns.as_ref().and_then(|c| c.include_csv.as_deref()),
            types,
        )?;
        let sorting = self.sorting.unwrap_or_default();
        let (offset, limit) = self.paging.unwrap_or_default().window()?;
        let filter = OpportunityActivityFilter {
            event_code,
            sort: sort_for(sorting.column.as_deref(), types)?,
            descending: sorting.descending()?,
            offset,
            limit,
        };
        Ok((include, filter))
    }
}

fn int_param(lsq: &Lsq, name: &str) -> LsqResult<Option<i64>> {
    match lsq
        .params
        .get(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            LsqError::bad_input(format!(
                "The query parameter '{name}' must be an integer, got '{v}'"
            ))
        }),
    }
}

fn types_by_code(types: &[ActivityType]) -> HashMap<i64, &ActivityType> {
    types.iter().map(|t| (t.event_code, t)).collect()
}

/// `POST /v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId=…[&activityEventCode=…]`
#[utoipa::path(post, path = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity", tag = "LeadSquared",
    operation_id = "lsq_opportunity_activities", summary = "An opportunity's activities as flat rows",
    params(("opportunityId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The opportunity's GUID"),
        ("activityEventCode" = Option<i64>, Query, description = "Only activities of this event code")),
    request_body = Option<ListBody>,
    responses((status = 200, description = "The page", body = docs::FlatPage)))]
pub async fn activities(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Response> {
    let id = lsq.param("opportunityId")?.to_string();
    let event_code = int_param(&lsq, "activityEventCode")?;
    let b: ListBody = json_body(body).await?;
    let types = app.service.list_activity_types(&lsq.user).await?;
    let (include, filter) = b.activities_request(event_code, &types)?;
    let (ctx, page) = app
        .service
        .opportunity_activities(&lsq.user, &id, filter)
        .await?;
    let by_code = types_by_code(&types);
    let OpportunityContext {
        opportunity,
        opportunity_type,
        lead,
    } = &ctx;
    let opp = OppColumns::of(opportunity, Some(opportunity_type));
    let values: Vec<BTreeMap<String, String>> =
        page.rows.iter().map(|a| a.fields.to_map()).collect();
    let rows: Vec<FlatRow<'_>> = page
        .rows
        .iter()
        .zip(&values)
        .map(|(a, values)| {
            flat_row(
                lead,
                a,
                by_code.get(&a.event_code).copied(),
                values,
                &opp,
                include.as_deref(),
                page.total,
            )
        })
        .collect();
    Ok(flat_page(page.total, &rows))
}

/// `POST /v2/OpportunityManagement.svc/GetOpportunitiesOfLead?leadId=…[&opportunityType=…]` — each
/// row is the lead plus the opportunity (as the activity columns and as the `O_` columns).
#[utoipa::path(post, path = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead", tag = "LeadSquared",
    operation_id = "lsq_opportunities_of_lead", summary = "A lead's opportunities as flat rows",
    params(("leadId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The lead's GUID"),
        ("opportunityType" = Option<i64>, Query, description = "Only opportunities of this event code")),
    request_body = Option<ListBody>,
    responses((status = 200, description = "The page", body = docs::FlatPage)))]
pub async fn of_lead(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Response> {
    let lead = lsq.param("leadId")?.to_string();
    let opportunity_type = int_param(&lsq, "opportunityType")?;
    let b: ListBody = json_body(body).await?;
    let types = app.service.list_activity_types(&lsq.user).await?;
    // The same checks as GetActivitiesOfOpportunity; the opportunities come newest first
    // whatever `Sorting` asks, but a Sorting given must still be one that call takes.
    let (include, filter) = b.activities_request(None, &types)?;
    let (offset, limit) = (filter.offset, filter.limit);
    let (lead, page) = app
        .service
        .lead_opportunities(&lsq.user, &lead, opportunity_type, offset, limit)
        .await?;
    let by_code = types_by_code(&types);
    // The opportunity is both the row's activity and its `O_` columns: parsed once.
    let opps: Vec<OppColumns<'_>> = page
        .rows
        .iter()
        .map(|o| OppColumns::of(o, by_code.get(&o.event_code).copied()))
        .collect();
    let rows: Vec<FlatRow<'_>> = opps
        .iter()
        .map(|opp| {
            flat_row(
                &lead,
                opp.opp,
                opp.ty,
                &opp.values,
                opp,
                include.as_deref(),
                page.total,
            )
        })
        .collect();
    Ok(flat_page(page.total, &rows))
}

/// `POST /v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId?opportunityId=…`
#[utoipa::path(post, path = "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId", tag = "LeadSquared",
    operation_id = "lsq_activity_bulk_by_opportunity", summary = "Post 1 to 25 activities on an opportunity",
    params(("opportunityId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The opportunity's GUID")),
    request_body(content = super::activities::BulkRows, description = "1 to 25 activities (RelatedProspectId is ignored)"),
    responses((status = 200, description = "One result per row, in order; a refused row does not stop the others", body = docs::BulkAnswer)))]
pub async fn bulk_by_opportunity(
    State(app): State<AppState>,
    lsq: Lsq,
    body: Body,
) -> LsqResult<Json<Value>> {
    let id = lsq.param("opportunityId")?.to_string();
    let rows: Vec<CreateBody> = json_body(body).await?;
    check_bulk_len(rows.len())?;
    let (valid, early) = bulk_inputs(rows);
    let inputs = valid.into_iter().map(|(_, input)| input).collect();
    let stored = app
        .service
        .bulk_post_by_opportunity(&lsq.user, &id, inputs)
        .await?;
    Ok(bulk_answer(early, stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column set twice keeps its first place and its last value, as the insertion-ordered map
    /// the rows were built with did; names and values are escaped, and a missing value is null.
    #[test]
    fn a_flat_row_replaces_a_column_where_it_stands() {
        let mut row = FlatRow(Vec::new());
        row.set_str("ProspectId", "p");
        row.set_str("Status", "Active");
        row.set("mx_\"quoted\"", None);
        row.set_str("Status", "from a custom field");
        row.set_str("O_Owner", String::from("o"));
        let mut o = JsonOut::with_capacity(64);
        row.write(&mut o);
        let expected = serde_json::to_string(&json!({
            "ProspectId": "p",
            "Status": "from a custom field",
            "mx_\"quoted\"": null,
            "O_Owner": "o",
        }))
        .unwrap();
        assert_eq!(o.into_string(), expected);
    }

    /// A custom column asked for by Include_CSV is added, null, at the end when the row lacks it,
    /// and leaves the value alone when the row has it.
    #[test]
    fn a_requested_column_is_added_null_only_when_missing() {
        let mut row = FlatRow(Vec::new());
        row.set_str("mx_Custom_1", "kept");
        row.add_null("mx_Custom_1");
        row.add_null("mx_Custom_2");
        let mut o = JsonOut::with_capacity(64);
        row.write(&mut o);
        assert_eq!(
            o.into_string(),
            r#"{"mx_Custom_1":"kept","mx_Custom_2":null}"#
        );
    }
}
