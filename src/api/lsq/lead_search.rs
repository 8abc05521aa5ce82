//! `LeadManagement.svc/Leads.Get`: LeadSquared's search of leads by one criterion, with the
//! columns, order and page the caller asks for, over the lookups an index of the store serves.

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use super::docs;
use super::leads::lead_json;
use super::wire::{self, Paging, Sorting, Text};
use super::{json_body, Lsq, LsqError, LsqResult};
use crate::app::AppState;
use crate::domain::time::{parse_lsq_datetime, Micros, YEAR_RANGE};
use crate::domain::{Lead, LeadDate, LeadFilter, LeadKey, LeadOrder};
use crate::service::{LeadLookup, LeadSearch};

/// The most columns one `Include_CSV` may name (LeadSquared's lead schema has a few hundred at
/// most; the bound keeps one answer's size a function of the page size).
pub const MAX_COLUMNS: usize = 200;

/// The lookups served, as LeadSquared's schema names, for the error that lists them.
const LOOKUPS: &str = "ProspectID, EmailAddress, Phone, Mobile, OwnerId, CreatedOn or ModifiedOn";

/// `Parameter`: the field, the value and the comparison (its schema: [`lookup_schema`]).
#[derive(Deserialize, Default)]
pub struct Parameter {
    /// The lead field's schema name: ProspectID, EmailAddress, Phone, Mobile, OwnerId (a user
    /// GUID), CreatedOn or ModifiedOn.
    #[serde(rename = "LookupName")]
    lookup_name: Option<String>,
    /// The value compared with; dates as `yyyy-MM-dd HH:mm:ss` (UTC).
    #[serde(rename = "LookupValue")]
    lookup_value: Option<Text>,
    /// `=` (the default) for every lookup; also `<`, `<=`, `>`, `>=` for CreatedOn and ModifiedOn.
    #[serde(rename = "SqlOperator")]
    sql_operator: Option<String>,
}

/// The lookups compared by equality only, as [`SearchBody::into_search`] names them.
const EQUAL_LOOKUPS: [&str; 5] = ["ProspectID", "EmailAddress", "Phone", "Mobile", "OwnerId"];
/// The date lookups, which take every operator.
const DATE_LOOKUPS: [&str; 2] = ["CreatedOn", "ModifiedOn"];

/// `Parameter` in `/openapi.json`: exactly what [`SearchBody::into_search`] takes, one branch per
/// kind of lookup, since the value and the operators a lookup takes depend on its name.
fn lookup_schema() -> RefOr<Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
    let operator = |ops: &str| {
        wire::schema::trimmed(&format!("({ops})?"))
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    };
    let branch = |names: &[&str], value: RefOr<Schema>, ops: &str, description: &str| {
        ObjectBuilder::new()
            .description(Some(description))
            .property(
                "LookupName",
                wire::schema::trimmed(&wire::schema::any_case_group(names)),
            )
            .required("LookupName")
            .property("LookupValue", value)
            .required("LookupValue")
            .property("SqlOperator", operator(ops))
    };
    let any_value = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[^\\x00]*[^\\s\\x00][^\\x00]*$")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::Boolean));
    OneOfBuilder::new()
        .description(Some(
            "The lookup: LookupName (any case), the LookupValue compared with and the SqlOperator.",
        ))
        .item(branch(
            &EQUAL_LOOKUPS,
            any_value.into(),
            "=",
            "ProspectID, EmailAddress, Phone, Mobile or OwnerId (a user GUID), compared by equality with a value that is not blank.",
        ))
        .item(branch(
            &DATE_LOOKUPS,
            wire::schema::datetime_string().into(),
            "=|<|<=|>|>=",
            "CreatedOn or ModifiedOn against a `yyyy-MM-dd HH:mm:ss` date (UTC), with =, <, <=, > or >=.",
        ))
        .into()
}

/// `Sorting` of Leads.Get: CreatedOn, ModifiedOn or ProspectAutoId (any case), or blank.
fn sorting_schema() -> RefOr<Schema> {
    use utoipa::openapi::schema::{SchemaType, Type};
    wire::schema::sorting(
        wire::schema::trimmed(&format!(
            "{}?",
            wire::schema::any_case_group(&["CreatedOn", "ModifiedOn", "ProspectAutoId"])
        ))
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(
            "CreatedOn, ModifiedOn or ProspectAutoId (any case); blank or null: the lookup's own order.",
        )),
    )
}

/// `Columns`: the lead fields each row carries.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = LsqLeadSearchColumns)]
pub struct Columns {
    /// Comma-separated schema names; empty or absent: every field `Leads.GetById` shows.
    #[serde(rename = "Include_CSV")]
    include_csv: Option<String>,
}

/// Leads.Get's body.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = LsqLeadSearch)]
pub struct SearchBody {
    #[serde(rename = "Parameter", default, deserialize_with = "wire::object")]
    #[schema(schema_with = lookup_schema, required = true)]
    parameter: Option<Parameter>,
    #[serde(rename = "Columns", default, deserialize_with = "wire::object")]
    columns: Option<Columns>,
    /// ColumnName: CreatedOn, ModifiedOn or ProspectAutoId (default: the lookup's own order,
    /// by date for a date lookup, else by ProspectAutoId); Direction 1 (default) newest first.
    #[serde(rename = "Sorting", default, deserialize_with = "wire::object")]
    #[schema(schema_with = sorting_schema)]
    sorting: Option<Sorting>,
    #[serde(rename = "Paging", default, deserialize_with = "wire::object")]
    paging: Option<Paging>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

fn operator(name: &str, op: Option<&str>) -> LsqResult<Op> {
    match op.map(str::trim).unwrap_or("") {
        "" | "=" => Ok(Op::Eq),
        "<" => Ok(Op::Lt),
        "<=" => Ok(Op::Le),
        ">" => Ok(Op::Gt),
        ">=" => Ok(Op::Ge),
        other => Err(LsqError::bad_input(format!(
            "Parameter.SqlOperator '{other}' is not supported for LookupName '{name}': use =, <, <=, > or >="
        ))),
    }
}

/// `[from, until)` of the dates `op value` selects; dates have whole seconds on the wire, so
/// `= v` is the whole second `v` names, and `> v` starts after it.
fn date_range(op: Op, at: Micros) -> (Option<Micros>, Option<Micros>) {
    let next = at.saturating_add(1_000_000);
    match op {
        Op::Eq => (Some(at), Some(next)),
        Op::Gt => (Some(next), None),
        Op::Ge => (Some(at), None),
        Op::Lt => (None, Some(at)),
        Op::Le => (None, Some(next)),
    }
}

/// The sort a `Sorting.ColumnName` names; `None` for the lookup's own order.
fn order(column: Option<&str>) -> LsqResult<Option<LeadOrder>> {
    match column.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        c if c.eq_ignore_ascii_case("CreatedOn") => Ok(Some(LeadOrder::Date(LeadDate::Created))),
        c if c.eq_ignore_ascii_case("ModifiedOn") => Ok(Some(LeadOrder::Date(LeadDate::Modified))),
        c if c.eq_ignore_ascii_case("ProspectAutoId") => Ok(Some(LeadOrder::Id)),
        c => Err(LsqError::bad_input(format!(
            "Sorting.ColumnName '{c}' is not supported here: use CreatedOn, ModifiedOn or ProspectAutoId"
        ))),
    }
}

impl SearchBody {
    /// The search and the columns (`None`: all) this body asks for, each part checked.
    pub fn into_search(self) -> LsqResult<(LeadSearch, Option<Vec<String>>)> {
        let p = self.parameter.unwrap_or_default();
        let name = p
            .lookup_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| LsqError::bad_input("Parameter.LookupName is required"))?
            .to_string();
        let op = operator(&name, p.sql_operator.as_deref())?;
        let value = p
            .lookup_value
            .map(|t| t.0.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| LsqError::bad_input("Parameter.LookupValue is required"))?;
        let equal_only = |lookup: LeadLookup| {
            if op == Op::Eq {
                Ok(lookup)
            } else {
                Err(LsqError::bad_input(format!(
                    "Parameter.SqlOperator must be = for LookupName '{name}'"
                )))
            }
        };
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        let lookup = if is("ProspectID") || is("ProspectId") {
            equal_only(LeadLookup::Guid(value))?
        } else if is("EmailAddress") {
            equal_only(LeadLookup::Key(LeadKey::Email, value))?
        } else if is("Phone") {
            equal_only(LeadLookup::Key(LeadKey::Phone, value))?
        } else if is("Mobile") {
            equal_only(LeadLookup::Key(LeadKey::Mobile, value))?
        } else if is("OwnerId") {
            equal_only(LeadLookup::Owner(value))?
        } else if is("CreatedOn") || is("ModifiedOn") {
            let date = if is("CreatedOn") {
                LeadDate::Created
            } else {
                LeadDate::Modified
            };
            let at = parse_lsq_datetime(&value).ok_or_else(|| {
                LsqError::bad_input(format!(
                    "Invalid Parameter.LookupValue '{value}' for {name}: expected yyyy-MM-dd HH:mm:ss with {YEAR_RANGE}"
                ))
            })?;
            let (from, until) = date_range(op, at);
            LeadLookup::Filter(LeadFilter::Dated { date, from, until })
        } else {
            return Err(LsqError::bad_input(format!(
                "Parameter.LookupName '{name}' is not supported by this server: use {LOOKUPS}"
            )));
        };
        let sorting = self.sorting.unwrap_or_default();
        let order = order(sorting.column.as_deref())?.unwrap_or(match lookup {
            LeadLookup::Filter(LeadFilter::Dated { date, .. }) => LeadOrder::Date(date),
            _ => LeadOrder::Id,
        });
        let (offset, limit) = self.paging.unwrap_or_default().window()?;
        let columns = match self.columns.and_then(|c| c.include_csv) {
            None => None,
            Some(csv) => columns(&csv)?,
        };
        Ok((
            LeadSearch {
                lookup,
                order,
                descending: sorting.descending()?,
                offset,
                limit,
            },
            columns,
        ))
    }
}

/// The names of `Include_CSV`, trimmed, without repeats; `None` when it names none.
fn columns(csv: &str) -> LsqResult<Option<Vec<String>>> {
    let mut names: Vec<String> = Vec::new();
    for name in csv.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        if names.len() > MAX_COLUMNS {
            return Err(LsqError::bad_input(format!(
                "Columns.Include_CSV names more than {MAX_COLUMNS} columns"
            )));
        }
    }
    Ok((!names.is_empty()).then_some(names))
}

/// A lead with the columns asked for: each as `Leads.GetById` shows it (its name matched
/// ignoring case), `ProspectAutoId` its number, and `null` for a field the lead holds no value
/// of or this server does not keep.
fn row(lead: &Lead, columns: Option<&[String]>) -> Value {
    let Value::Object(mut all) = lead_json(lead) else {
        return Value::Null;
    };
    let Some(columns) = columns else {
        return Value::Object(all);
    };
    let mut out = Map::new();
    for name in columns {
        if name.eq_ignore_ascii_case("ProspectAutoId") {
            out.insert("ProspectAutoId".into(), Value::String(lead.id.to_string()));
            continue;
        }
        let key = all
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
            .unwrap_or_else(|| name.clone());
        let value = all.remove(&key).unwrap_or(Value::Null);
        out.insert(key, value);
    }
    Value::Object(out)
}

/// `POST /v2/LeadManagement.svc/Leads.Get` — the leads one criterion selects, a page of them.
#[utoipa::path(post, path = "/v2/LeadManagement.svc/Leads.Get", tag = "LeadSquared",
    operation_id = "lsq_leads_get", summary = "Search leads by one criterion, with columns, sorting and paging",
    request_body = SearchBody,
    responses((status = 200, description = "The page of leads the caller may see, each with the columns asked for", body = Vec<docs::LeadColumns>)))]
pub async fn search(State(app): State<AppState>, lsq: Lsq, body: Body) -> LsqResult<Json<Value>> {
    let body: SearchBody = json_body(body).await?;
    let (search, columns) = body.into_search()?;
    let leads = app.service.search_leads(&lsq.user, search).await?;
    Ok(Json(Value::Array(
        leads.iter().map(|l| row(l, columns.as_deref())).collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(body: Value) -> Result<(LeadSearch, Option<Vec<String>>), String> {
        serde_json::from_value::<SearchBody>(body)
            .map_err(|e| e.to_string())?
            .into_search()
            .map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn dates_cover_whole_seconds() {
        let s = 1_000_000;
        assert_eq!(date_range(Op::Eq, 5 * s), (Some(5 * s), Some(6 * s)));
        assert_eq!(date_range(Op::Gt, 5 * s), (Some(6 * s), None));
        assert_eq!(date_range(Op::Ge, 5 * s), (Some(5 * s), None));
        assert_eq!(date_range(Op::Lt, 5 * s), (None, Some(5 * s)));
        assert_eq!(date_range(Op::Le, 5 * s), (None, Some(6 * s)));
    }

    #[test]
    fn reads_the_documented_body() {
        let (s, cols) = search(serde_json::json!({
            "Parameter": {"LookupName": "CreatedOn", "LookupValue": "2015-01-01 14:36:59", "SqlOperator": ">"},
            "Columns": {"Include_CSV": "ProspectID, FirstName, LastName, EmailAddress, FirstName"},
            "Sorting": {"ColumnName": "CreatedOn", "Direction": "1"},
            "Paging": {"PageIndex": 2, "PageSize": "100"}
        }))
        .unwrap();
        assert!(matches!(
            s.lookup,
            LeadLookup::Filter(LeadFilter::Dated {
                date: LeadDate::Created,
                from: Some(_),
                until: None
            })
        ));
        assert_eq!((s.offset, s.limit, s.descending), (100, 100, true));
        assert_eq!(s.order, LeadOrder::Date(LeadDate::Created));
        assert_eq!(
            cols.unwrap(),
            ["ProspectID", "FirstName", "LastName", "EmailAddress"]
        );
    }

    #[test]
    fn refuses_what_no_index_serves() {
        let e = search(
            serde_json::json!({"Parameter": {"LookupName": "mx_City", "LookupValue": "Pune"}}),
        )
        .unwrap_err();
        assert!(e.contains("'mx_City' is not supported"), "{e}");
        let e = search(serde_json::json!({"Parameter": {"LookupName": "EmailAddress", "LookupValue": "a%", "SqlOperator": "LIKE"}}))
            .unwrap_err();
        assert!(e.contains("'LIKE' is not supported"), "{e}");
        let e = search(serde_json::json!({"Parameter": {"LookupName": "Phone", "LookupValue": "1", "SqlOperator": ">"}}))
            .unwrap_err();
        assert!(e.contains("must be = for LookupName 'Phone'"), "{e}");
        let e = search(serde_json::json!({"Parameter": {"LookupName": "OwnerId", "LookupValue": "x"}, "Sorting": {"ColumnName": "FirstName"}}))
            .unwrap_err();
        assert!(e.contains("'FirstName' is not supported"), "{e}");
    }
}
