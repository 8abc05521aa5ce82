//! Salesloft's `/v2/people`, `/v2/accounts` and `/v2/users` (lists and `{id}`): the leads,
//! accounts and users of the store, with the filters, sorts and paging of `activity_histories`.
//!
//! A person is a LeadSquared lead, with the integer id the history feed gives as `resource_id`;
//! an account and a user likewise keep their integer ids. Attributes of Salesloft's schemas the
//! store has no data for are `null` (arrays with nothing in them `[]`), never invented.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

use super::docs;
use super::query::{self, boolean, scalar, time_bounds, values, Errors, Paging, RawParam};
use super::SlError;
use crate::api::extract::path_rejection;
use crate::app::AppState;
use crate::domain::directory::{DirectoryKind, DirectoryQuery, DirectorySort, UserRecord};
use crate::domain::time::rfc3339_micros_text;
use crate::domain::{join_name, Account, Lead, Page, Role, User};

/// The value Salesloft's array filters take to mean "records without this attribute".
const IS_NULL: &str = "_is_null";
/// Lead attributes with a Person attribute of their own; the others are custom fields.
const TITLE_ATTRIBUTE: &str = "JobTitle";
const COMPANY_ATTRIBUTE: &str = "Company";

fn stamp(us: i64) -> Value {
    Value::String(rfc3339_micros_text(us).as_str().to_string())
}

/// An embedded resource (`{"id": n}`). `_href` is left out: behind a proxy this server does not
/// know the URL its clients reach it by (Salesloft's schema does not require it).
fn embedded(id: i64) -> Value {
    json!({ "id": id })
}

/// A list request of one of the three kinds, validated, with its `metadata.filtering` echo.
struct Parsed {
    query: DirectoryQuery,
    paging: Paging,
    /// `owned_by_guid` (people) or `guid` (users): resolved by the service.
    guids: Vec<String>,
    filtering: Map<String, Value>,
}

/// An array of integer ids (`ids`, `account_id`, `owner_id`): each must be a positive integer,
/// except `_is_null` where `null_ok`; `None` when the parameter is absent. The second value says
/// whether `_is_null` was among them.
fn int_list(
    errors: &mut Errors,
    params: &[RawParam],
    name: &str,
    null_ok: bool,
    filtering: &mut Map<String, Value>,
) -> (Option<Vec<i64>>, bool) {
    let raw = values(params, name);
    if raw.is_empty() {
        return (None, false);
    }
    let mut ids = Vec::new();
    let mut is_null = false;
    for v in &raw {
        match v.parse::<i64>() {
            Ok(i) if i > 0 => ids.push(i),
            _ if null_ok && *v == IS_NULL => is_null = true,
            _ => errors.add(name, format!("'{v}' is not an integer id")),
        }
    }
    filtering.insert(name.to_string(), json!(raw));
    (Some(ids), is_null)
}

/// An array of strings; `None` when absent.
fn text_list(
    params: &[RawParam],
    name: &str,
    filtering: &mut Map<String, Value>,
) -> Option<Vec<String>> {
    let raw = values(params, name);
    if raw.is_empty() {
        return None;
    }
    filtering.insert(name.to_string(), json!(raw));
    Some(raw.into_iter().map(str::to_string).collect())
}

/// A boolean filter, echoed when given.
fn flag(
    errors: &mut Errors,
    params: &[RawParam],
    name: &str,
    filtering: &mut Map<String, Value>,
) -> Option<bool> {
    let v = boolean(errors, params, name);
    if let Some(b) = v {
        filtering.insert(name.to_string(), json!(b));
    }
    v
}

/// What every kind shares: NUL refusal, paging, sort, `ids`, `created_at` and `updated_at`.
fn parse_common(
    params: &[RawParam],
    kind: DirectoryKind,
    sorts: &[(&str, DirectorySort)],
) -> Result<(Errors, Parsed), Errors> {
    query::refuse_nul(params)?;
    let mut errors = Errors::default();
    let mut filtering = Map::new();
    let paging = query::paging(&mut errors, params);
    let (sort, _, descending) = query::sorting(&mut errors, params, sorts, 0);
    let mut q = DirectoryQuery::new(0, kind);
    q.sort = sort;
    q.descending = descending;
    q.offset = paging.offset();
    q.limit = paging.limit();
    q.count = paging.count;
    q.ids = int_list(&mut errors, params, "ids", false, &mut filtering).0;
    (q.created_from, q.created_to) = time_bounds(&mut errors, params, "created_at", &mut filtering);
    (q.updated_from, q.updated_to) = time_bounds(&mut errors, params, "updated_at", &mut filtering);
    Ok((
        errors,
        Parsed {
            query: q,
            paging,
            guids: Vec::new(),
            filtering,
        },
    ))
}

fn done(errors: Errors, parsed: Parsed) -> Result<Parsed, Errors> {
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

/// `GET /v2/people`'s parameters.
fn parse_people(params: &[RawParam]) -> Result<Parsed, Errors> {
    let sorts = [
        ("updated_at", DirectorySort::UpdatedAt),
        ("created_at", DirectorySort::CreatedAt),
    ];
    let (mut errors, mut p) = parse_common(params, DirectoryKind::People, &sorts)?;
    let f = &mut p.filtering;
    let q = &mut p.query;
    if let Some(emails) = text_list(params, "email_addresses", f) {
        q.email_is_null = emails.iter().any(|e| e == IS_NULL);
        q.emails = emails
            .iter()
            .filter(|e| *e != IS_NULL)
            .map(|e| e.to_lowercase())
            .collect();
    }
    p.guids = text_list(params, "owned_by_guid", f).unwrap_or_default();
    if !p.guids.is_empty() {
        // Resolved by the service; none known matches nothing.
        q.owner_ids = None;
    }
    if let (Some(owners), _) = int_list(&mut errors, params, "owner_id", false, f) {
        q.owner_ids = Some(owners);
    }
    // No person is linked to an account or a CRM record in this store: asking for some matches
    // nothing, `_is_null` matches everyone.
    for name in ["account_id", "crm_id"] {
        if let Some(v) = text_list(params, name, f) {
            if name == "account_id" {
                int_list(&mut errors, params, name, true, &mut Map::new());
            }
            q.match_nothing |= v.iter().any(|x| x != IS_NULL);
        }
    }
    q.do_not_contact = flag(&mut errors, params, "do_not_contact", f);
    q.do_not_call = flag(&mut errors, params, "can_call", f).map(|can| !can);
    q.do_not_email = flag(&mut errors, params, "can_email", f).map(|can| !can);
    q.has_phone = flag(&mut errors, params, "phone_number", f);
    done(errors, p)
}

/// `GET /v2/accounts`' parameters.
fn parse_accounts(params: &[RawParam]) -> Result<Parsed, Errors> {
    let sorts = [
        ("updated_at", DirectorySort::UpdatedAt),
        ("created_at", DirectorySort::CreatedAt),
        ("name", DirectorySort::Name),
    ];
    let (mut errors, mut p) = parse_common(params, DirectoryKind::Accounts, &sorts)?;
    let f = &mut p.filtering;
    let q = &mut p.query;
    if let Some(domain) = scalar(params, "domain").filter(|d| !d.is_empty()) {
        f.insert("domain".into(), json!(domain));
        q.domains = vec![domain.to_lowercase()];
    }
    if let Some(names) = text_list(params, "name", f) {
        q.names = names;
    }
    // Every account has an owner: `_is_null` (unowned) matches none.
    let (owners, unowned) = int_list(&mut errors, params, "owner_id", true, f);
    if let Some(owners) = owners {
        q.owner_ids = Some(owners);
        q.match_nothing |= unowned && q.owner_ids.as_ref().is_some_and(Vec::is_empty);
    }
    if let Some(v) = text_list(params, "crm_id", f) {
        q.match_nothing |= v.iter().any(|x| x != IS_NULL);
    }
    // No account is archived.
    if flag(&mut errors, params, "archived", f) == Some(true) {
        q.match_nothing = true;
    }
    done(errors, p)
}

/// `GET /v2/users`' parameters. Unlike Salesloft (which answers every user when `page` is not
/// given), the answer is always one page, so that no request reads an unbounded list.
fn parse_users(params: &[RawParam]) -> Result<Parsed, Errors> {
    let sorts = [
        ("id", DirectorySort::Id),
        ("email", DirectorySort::Email),
        ("created_at", DirectorySort::CreatedAt),
        ("updated_at", DirectorySort::UpdatedAt),
    ];
    let (mut errors, mut p) = parse_common(params, DirectoryKind::Users, &sorts)?;
    let f = &mut p.filtering;
    let q = &mut p.query;
    p.guids = text_list(params, "guid", f).unwrap_or_default();
    q.active = flag(&mut errors, params, "active", f);
    if let Some(roles) = text_list(params, "role_id", f) {
        for r in &roles {
            if Role::parse(r).is_none() {
                errors.add(
                    "role_id",
                    format!("'{r}' is not a role: use Administrator, Sales_Manager or Sales_User"),
                );
            }
        }
        q.roles = roles;
    }
    // Every user is visible to every caller; the flag is checked, and changes nothing.
    flag(&mut errors, params, "visible_only", &mut Map::new());
    done(errors, p)
}

/// A Person as Salesloft's schema has it, from a lead.
pub(crate) fn person_json(l: &Lead) -> Value {
    let first = l.first_name.as_deref().unwrap_or_default();
    let last = l.last_name.as_deref().unwrap_or_default();
    let name = join_name(first, last);
    let display = match (name.is_empty(), &l.email) {
        (false, _) => Some(name.clone()),
        (true, Some(e)) => Some(e.clone()),
        (true, None) => None,
    };
    let full_email = l.email.as_ref().map(|e| match name.is_empty() {
        true => e.clone(),
        false => format!("{name} <{e}>"),
    });
    let mut restrictions = Vec::new();
    if l.do_not_call {
        restrictions.push("call");
    }
    if l.do_not_email {
        restrictions.push("email");
    }
    let custom: Map<String, Value> = l
        .attributes
        .iter()
        .filter(|(k, _)| *k != TITLE_ATTRIBUTE && *k != COMPANY_ATTRIBUTE)
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut person = json!({
        "id": l.id,
        "created_at": stamp(l.created_at),
        "updated_at": stamp(l.updated_at),
        "last_contacted_at": null,
        "last_replied_at": null,
        "first_name": l.first_name,
        "last_name": l.last_name,
        "display_name": display,
        "email_address": l.email,
        "full_email_address": full_email,
        "secondary_email_address": null,
        "personal_email_address": null,
        "phone": l.phone,
        "phone_extension": null,
        "home_phone": null,
        "mobile_phone": l.mobile,
        "linkedin_url": null,
        "title": l.attributes.get(TITLE_ATTRIBUTE),
        "city": null,
        "state": null,
        "country": null,
        "work_city": null,
        "work_state": null,
        "work_country": null,
        "crm_url": null,
        "crm_id": null,
        "crm_object_type": null,
        "owner_crm_id": null,
    });
    let rest = json!({
        "person_company_name": l.attributes.get(COMPANY_ATTRIBUTE),
        "person_company_website": null,
        "person_company_industry": null,
        "do_not_contact": l.do_not_call && l.do_not_email,
        "bouncing": null,
        "locale": null,
        "locale_utc_offset": null,
        "eu_resident": null,
        "personal_website": null,
        "twitter_handle": null,
        "last_contacted_type": null,
        "job_seniority": null,
        "custom_fields": custom,
        "tags": [],
        "contact_restrictions": restrictions,
        "success_count": null,
        "starred": null,
        "untouched": null,
        "counts": null,
        "account": null,
        "owner": embedded(l.owner_id),
        "last_contacted_by": null,
        "import": null,
        "person_stage": null,
        "most_recent_cadence": null,
        "last_completed_step_cadence": null,
        "last_completed_step": null,
        "cadences": [],
    });
    merge(&mut person, rest);
    person
}

/// Adds the members of the object `more` to the object `into` (the Person is written in two
/// `json!` calls: one is past the macro's recursion limit).
fn merge(into: &mut Value, more: Value) {
    if let (Some(into), Value::Object(more)) = (into.as_object_mut(), more) {
        into.extend(more);
    }
}

/// An Account as Salesloft's schema has it.
fn account_json(a: &Account) -> Value {
    json!({
        "id": a.id,
        "created_at": stamp(a.created_at),
        "updated_at": stamp(a.updated_at),
        "archived_at": null,
        "name": a.name,
        "domain": a.domain,
        "conversational_name": null,
        "description": null,
        "phone": null,
        "website": null,
        "linkedin_url": null,
        "twitter_handle": null,
        "street": null,
        "city": null,
        "state": null,
        "postal_code": null,
        "country": null,
        "locale": null,
        "industry": null,
        "company_type": null,
        "founded": null,
        "revenue_range": null,
        "size": null,
        "crm_id": null,
        "crm_url": null,
        "crm_object_type": null,
        "owner_crm_id": null,
        "last_contacted_at": null,
        "last_contacted_type": null,
        "do_not_contact": null,
        "custom_fields": {},
        "user_relationships": null,
        "tags": [],
        "counts": null,
        "owner": embedded(a.owner_id),
        "creator": null,
        "last_contacted_by": null,
        "last_contacted_person": null,
        "company_stage": null,
        "account_tier": null,
    })
}

/// A User as Salesloft's schema has it. `role.id` is the role's name (Salesloft's role ids are
/// names too: "Admin", "User" or a custom role's id), `team.id` the tenant's integer id.
fn user_json(r: &UserRecord) -> Value {
    let u = &r.user;
    let name = u.full_name();
    let full_email = match name.is_empty() {
        true => u.email.clone(),
        false => format!("\"{}\" <{}>", name.replace(['"', '\\'], ""), u.email),
    };
    json!({
        "id": u.id,
        "guid": u.guid,
        "created_at": stamp(r.created_at),
        "updated_at": stamp(r.updated_at),
        "name": name,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "job_role": null,
        "active": u.active,
        "time_zone": null,
        "slack_username": null,
        "twitter_handle": null,
        "email": u.email,
        "email_client_email_address": null,
        "sending_email_address": null,
        "from_address": null,
        "full_email_address": full_email,
        "bcc_email_address": null,
        "work_country": null,
        "email_signature": null,
        "email_signature_type": null,
        "email_signature_click_tracking_disabled": null,
        "team_admin": u.role == Role::Administrator,
        "local_dial_enabled": null,
        "click_to_call_enabled": null,
        "email_client_configured": null,
        "crm_connected": null,
        "external_feature_flags": {},
        "_private_fields": {},
        "phone_client": null,
        "phone_number_assignment": null,
        "group": null,
        "team": embedded(u.tenant_id),
        "role": {"id": u.role.as_str()},
    })
}

/// The list answer: `metadata` (filters as given, paging, sorting) and one page of `data`.
fn list_answer<T>(p: &Parsed, page: Page<T>, render: fn(&T) -> Value) -> Response {
    let per_page = p.paging.per_page as usize;
    let metadata = query::metadata(
        p.filtering.clone(),
        &p.paging,
        page.rows.len() > per_page,
        page.total,
        p.query.sort.as_str(),
        p.query.descending,
    );
    let data: Vec<Value> = page.rows.iter().take(per_page).map(render).collect();
    Json(json!({ "metadata": metadata, "data": data })).into_response()
}

fn invalid(errors: Errors) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Json(errors.to_json())).into_response()
}

/// The integer id of a `{id}` path: anything else (and a segment that does not decode, in
/// Salesloft's `{"error":…}`) is answered as an unknown record.
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<i64, SlError> {
    match id {
        Ok(Path(id)) => id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|i| *i > 0)
            .ok_or_else(|| SlError::new(StatusCode::NOT_FOUND, "Not Found")),
        Err(rejection) => {
            let (status, message) = path_rejection(&rejection);
            Err(SlError::new(status, message))
        }
    }
}

fn one_answer<T>(found: crate::error::Result<Option<T>>, render: fn(&T) -> Value) -> Response {
    match found {
        Ok(Some(r)) => Json(json!({ "data": render(&r) })).into_response(),
        Ok(None) => SlError::new(StatusCode::NOT_FOUND, "Not Found").into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// The store query (before the caller's visibility, see `Service::directory_query`) and the user
/// GUIDs to resolve that `GET /v2/{people|accounts|users}?{query}` asks for, or its 422 body; for
/// tests and reports that EXPLAIN what a request runs.
pub fn directory_request(
    kind: DirectoryKind,
    query: &str,
) -> Result<(DirectoryQuery, Vec<String>), Value> {
    let params = query::parse_raw(Some(query));
    let parsed = match kind {
        DirectoryKind::People => parse_people(&params),
        DirectoryKind::Accounts => parse_accounts(&params),
        DirectoryKind::Users => parse_users(&params),
    };
    parsed.map(|p| (p.query, p.guids)).map_err(|e| e.to_json())
}

/// `GET /v2/people`
#[utoipa::path(get, path = "/v2/people", tag = "Salesloft",
    operation_id = "salesloft_people", summary = "List people",
    description = "The tenant's leads as Salesloft people (a Sales_User's own leads only), newest update first by default. Arrays may be sent as `x[]=a&x[]=b`, `x=a&x=b` or `x=a,b`; unknown parameters are ignored; every problem is answered at once in one 422. With sort_by=updated_at&sort_direction=ASC and updated_at[gt] a cursor that sees every person once.",
    params(
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 25)"),
        ("page" = Option<docs::PageNumber>, Query, description = "Page number (default 1); deep pages cost more, as for activity_histories"),
        ("include_paging_counts" = Option<bool>, Query, description = "Answer total_count and total_pages"),
        ("limit_paging_counts" = Option<bool>, Query, description = "Cap total_count at 10000"),
        ("sort_by" = Option<docs::PeopleSortKey>, Query, description = "Sort key (default updated_at)"),
        ("sort_direction" = Option<String>, Query, pattern = "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$", description = "ASC or DESC, any case (default DESC)"),
        ("ids" = Option<Vec<docs::RecordId>>, Query, style = Form, explode, description = "Only these people; unknown ids are not returned"),
        ("updated_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; also gte, lt, lte"),
        ("updated_at[gte]" = Option<String>, Query, format = DateTime),
        ("updated_at[lt]" = Option<String>, Query, format = DateTime),
        ("updated_at[lte]" = Option<String>, Query, format = DateTime),
        ("created_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; also gte, lt, lte"),
        ("created_at[gte]" = Option<String>, Query, format = DateTime),
        ("created_at[lt]" = Option<String>, Query, format = DateTime),
        ("created_at[lte]" = Option<String>, Query, format = DateTime),
        ("email_addresses" = Option<Vec<String>>, Query, style = Form, explode, description = "Email addresses (case-insensitive); `_is_null` for people without one"),
        ("owned_by_guid" = Option<Vec<String>>, Query, style = Form, explode, description = "Owners' GUIDs"),
        ("owner_id" = Option<Vec<docs::RecordId>>, Query, style = Form, explode, description = "Owners' ids"),
        ("account_id" = Option<Vec<docs::RecordIdOrNull>>, Query, style = Form, explode, description = "Account ids; no person is linked to an account here, so ids match nothing and `_is_null` everyone"),
        ("crm_id" = Option<Vec<String>>, Query, style = Form, explode, description = "No person has a CRM id here: ids match nothing, `_is_null` everyone"),
        ("do_not_contact" = Option<bool>, Query, description = "Opted out of both calls and email (or not)"),
        ("can_call" = Option<bool>, Query, description = "Not opted out of calls (or opted out)"),
        ("can_email" = Option<bool>, Query, description = "Not opted out of email (or opted out)"),
        ("phone_number" = Option<bool>, Query, description = "Has a phone or mobile number (or neither)"),
    ),
    responses(
        (status = 200, description = "One page", body = docs::PersonList),
        (status = 422, description = "Invalid parameters, each named with its problems", body = docs::ValidationErrors),
    ))]
pub(super) async fn people(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    req: Request,
) -> Response {
    let params = query::parse_raw(req.uri().query());
    let p = match parse_people(&params) {
        Ok(p) => p,
        Err(errors) => return invalid(errors),
    };
    match app.service.people(&user, p.query.clone(), &p.guids).await {
        Ok(page) => list_answer(&p, page, person_json),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// `GET /v2/people/{id}`
#[utoipa::path(get, path = "/v2/people/{id}", tag = "Salesloft",
    operation_id = "salesloft_person", summary = "Fetch a person",
    params(("id" = i64, Path, description = "The person's (lead's) integer id, as activity_histories gives it in resource_id")),
    responses(
        (status = 200, description = "The person", body = docs::PersonOne),
        (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = docs::ErrorBody),
        (status = 404, description = "No such person the caller may see", body = docs::ErrorBody),
    ))]
pub(super) async fn person(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match path_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    one_answer(app.service.person(&user, id).await, person_json)
}

/// `GET /v2/accounts`
#[utoipa::path(get, path = "/v2/accounts", tag = "Salesloft",
    operation_id = "salesloft_accounts", summary = "List accounts",
    description = "The tenant's accounts, newest update first by default. Array forms, unknown parameters and 422s as for people; with sort_by=updated_at&sort_direction=ASC and updated_at[gt] a cursor that sees every account once.",
    params(
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 25)"),
        ("page" = Option<docs::PageNumber>, Query, description = "Page number (default 1)"),
        ("include_paging_counts" = Option<bool>, Query, description = "Answer total_count and total_pages"),
        ("limit_paging_counts" = Option<bool>, Query, description = "Cap total_count at 10000"),
        ("sort_by" = Option<docs::AccountSortKey>, Query, description = "Sort key (default updated_at)"),
        ("sort_direction" = Option<String>, Query, pattern = "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$", description = "ASC or DESC, any case (default DESC)"),
        ("ids" = Option<Vec<docs::RecordId>>, Query, style = Form, explode, description = "Only these accounts"),
        ("updated_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; also gte, lt, lte"),
        ("updated_at[gte]" = Option<String>, Query, format = DateTime),
        ("updated_at[lt]" = Option<String>, Query, format = DateTime),
        ("updated_at[lte]" = Option<String>, Query, format = DateTime),
        ("created_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; also gte, lt, lte"),
        ("created_at[gte]" = Option<String>, Query, format = DateTime),
        ("created_at[lt]" = Option<String>, Query, format = DateTime),
        ("created_at[lte]" = Option<String>, Query, format = DateTime),
        ("domain" = Option<String>, Query, description = "The domain (case-insensitive)"),
        ("name" = Option<Vec<String>>, Query, style = Form, explode, description = "Exact names (case-sensitive)"),
        ("owner_id" = Option<Vec<docs::RecordIdOrNull>>, Query, style = Form, explode, description = "Owners' integer ids; `_is_null` (unowned) matches none"),
        ("crm_id" = Option<Vec<String>>, Query, style = Form, explode, description = "No account has a CRM id here: ids match nothing, `_is_null` every account"),
        ("archived" = Option<bool>, Query, description = "No account is archived here: true matches none"),
    ),
    responses(
        (status = 200, description = "One page", body = docs::AccountList),
        (status = 422, description = "Invalid parameters, each named with its problems", body = docs::ValidationErrors),
    ))]
pub(super) async fn accounts(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    req: Request,
) -> Response {
    let params = query::parse_raw(req.uri().query());
    let p = match parse_accounts(&params) {
        Ok(p) => p,
        Err(errors) => return invalid(errors),
    };
    match app.service.accounts(&user, p.query.clone()).await {
        Ok(page) => list_answer(&p, page, account_json),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// `GET /v2/accounts/{id}`
#[utoipa::path(get, path = "/v2/accounts/{id}", tag = "Salesloft",
    operation_id = "salesloft_account", summary = "Fetch an account",
    params(("id" = i64, Path, description = "The account's integer id, as activity_histories gives it in resource_id")),
    responses(
        (status = 200, description = "The account", body = docs::AccountOne),
        (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = docs::ErrorBody),
        (status = 404, description = "No such account in the caller's tenant", body = docs::ErrorBody),
    ))]
pub(super) async fn account(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match path_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    one_answer(app.service.account(&user, id).await, account_json)
}

/// `GET /v2/users`
#[utoipa::path(get, path = "/v2/users", tag = "Salesloft",
    operation_id = "salesloft_users", summary = "List users",
    description = "The tenant's users, by id descending by default; always one page (Salesloft answers every user when page is not given). Array forms, unknown parameters and 422s as for people.",
    params(
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 25)"),
        ("page" = Option<docs::PageNumber>, Query, description = "Page number (default 1)"),
        ("include_paging_counts" = Option<bool>, Query, description = "Answer total_count and total_pages"),
        ("limit_paging_counts" = Option<bool>, Query, description = "Cap total_count at 10000"),
        ("sort_by" = Option<docs::UserSortKey>, Query, description = "Sort key (default id)"),
        ("sort_direction" = Option<String>, Query, pattern = "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$", description = "ASC or DESC, any case (default DESC)"),
        ("ids" = Option<Vec<docs::RecordId>>, Query, style = Form, explode, description = "Only these users"),
        ("guid" = Option<Vec<String>>, Query, style = Form, explode, description = "Only the users with these GUIDs"),
        ("updated_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; also gte, lt, lte"),
        ("updated_at[gte]" = Option<String>, Query, format = DateTime),
        ("updated_at[lt]" = Option<String>, Query, format = DateTime),
        ("updated_at[lte]" = Option<String>, Query, format = DateTime),
        ("created_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; also gte, lt, lte"),
        ("created_at[gte]" = Option<String>, Query, format = DateTime),
        ("created_at[lt]" = Option<String>, Query, format = DateTime),
        ("created_at[lte]" = Option<String>, Query, format = DateTime),
        ("active" = Option<bool>, Query, description = "Active users only (or deactivated only)"),
        ("role_id" = Option<Vec<docs::RoleName>>, Query, style = Form, explode, description = "Roles"),
        ("visible_only" = Option<bool>, Query, description = "Accepted; every user is visible to every caller"),
    ),
    responses(
        (status = 200, description = "One page", body = docs::UserList),
        (status = 422, description = "Invalid parameters, each named with its problems", body = docs::ValidationErrors),
    ))]
pub(super) async fn users(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    req: Request,
) -> Response {
    let params = query::parse_raw(req.uri().query());
    let p = match parse_users(&params) {
        Ok(p) => p,
        Err(errors) => return invalid(errors),
    };
    match app.service.users(&user, p.query.clone(), &p.guids).await {
        Ok(page) => list_answer(&p, page, user_json),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// `GET /v2/users/{id}`
#[utoipa::path(get, path = "/v2/users/{id}", tag = "Salesloft",
    operation_id = "salesloft_user", summary = "Fetch a user",
    params(("id" = i64, Path, description = "The user's integer id")),
    responses(
        (status = 200, description = "The user", body = docs::UserOne),
        (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = docs::ErrorBody),
        (status = 404, description = "No such user in the caller's tenant", body = docs::ErrorBody),
    ))]
pub(super) async fn user(
    State(app): State<AppState>,
    Extension(caller): Extension<User>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match path_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    one_answer(app.service.user_record(&caller, id).await, user_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: fn(&[RawParam]) -> Result<Parsed, Errors>, q: &str) -> Result<Parsed, Value> {
        f(&query::parse_raw(Some(q))).map_err(|e| e.to_json())
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let e = parse(
            parse_people,
            "ids=x&sort_by=name&owner_id=0&can_call=maybe&updated_at[gt]=soon&per_page=101",
        )
        .err()
        .unwrap_or_default();
        for p in [
            "ids",
            "sort_by",
            "owner_id",
            "can_call",
            "updated_at",
            "per_page",
        ] {
            assert!(e["errors"][p].is_array(), "{p} missing in {e}");
        }
        let e = parse(parse_users, "role_id=Boss&sort=name")
            .err()
            .unwrap_or_default();
        assert!(e["errors"]["role_id"].is_array() && e["errors"]["sort"].is_array());
    }

    #[test]
    fn cursor_walk_and_filters() {
        let p = parse(
            parse_people,
            "sort_by=updated_at&sort_direction=asc&updated_at[gt]=2026-01-01T00:00:00Z&email_addresses[]=A@x.io,_is_null",
        )
        .expect("valid");
        assert_eq!(p.query.sort, DirectorySort::UpdatedAt);
        assert!(!p.query.descending && p.query.updated_from.is_some());
        assert_eq!(p.query.emails, vec!["a@x.io".to_string()]);
        assert!(p.query.email_is_null && !p.query.match_nothing);
        let p = parse(parse_people, "account_id=5").expect("valid");
        assert!(p.query.match_nothing);
        let p = parse(parse_accounts, "archived=false&sort_by=name").expect("valid");
        assert!(!p.query.match_nothing && p.query.sort == DirectorySort::Name);
        let p = parse(parse_users, "").expect("valid");
        assert_eq!((p.query.sort, p.query.limit), (DirectorySort::Id, 26));
    }
}
