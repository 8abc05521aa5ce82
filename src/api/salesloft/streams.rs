//! Salesloft's activity resources as views of the stored activities: `GET /v2/activities/calls`,
//! `/v2/activities/emails`, `/v2/notes`, `/v2/meetings`, `/v2/crm_activities` (and `{id}`), with
//! the history feed's query conventions, paging, counts and 422s (`query.rs`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

use super::query::{self, Errors, ListRequest, RawParam};
use super::{stream_docs as sd, SlError};
use crate::api::json_out::{page_capacity, respond, JsonOut};
use crate::app::AppState;
use crate::domain::time::rfc3339_micros_text;
use crate::domain::{ActivityIdFilter, ActivitySort, ActivityView, Micros, ResourceKind, User};
use crate::service::{HistoryFilter, ResourceRef, StreamScope};

/// Which parameters a resource list takes besides paging, sorting, `ids` and `updated_at`.
pub struct Stream {
    /// The resource's name in messages (`calls`).
    pub name: &'static str,
    pub scope: StreamScope,
    /// Sort keys (name, order) and the index of the default one.
    pub sorts: &'static [(&'static str, ActivitySort)],
    pub default_sort: usize,
    /// Parameters naming persons by integer id (`person_id`, `person_ids`).
    pub person_params: &'static [&'static str],
    /// A parameter naming accounts by integer id.
    pub account_param: Option<&'static str>,
    /// Parameters naming owners by GUID.
    pub user_params: &'static [&'static str],
    /// The `[gt|gte|lt|lte]` parameter bounding when the activity occurred (`sent_at`,
    /// `start_time`).
    pub occurred_param: Option<&'static str>,
    /// Notes' `associated_with_type` / `associated_with_id`.
    pub association: bool,
    /// Filters Salesloft documents on data this server does not keep: refused with a 422 rather
    /// than ignored, since ignoring them would answer records the client asked to leave out.
    pub unsupported: &'static [&'static str],
    /// Writes a record's members, between its braces: straight from the row, as the history
    /// feed is written, since a `serde_json::Value` tree per record cost a third of a page.
    members: fn(&mut JsonOut, &ActivityView),
}

/// `created_at` orders as the activity id does: both come from one insert under the tenant's
/// clock lock, so within a tenant a larger id always has a later `created_at` (index
/// `activities_sl_id` serves it per type).
const CREATED: (&str, ActivitySort) = ("created_at", ActivitySort::Id);
const UPDATED: (&str, ActivitySort) = ("updated_at", ActivitySort::UpdatedAt);

pub static CALLS: Stream = Stream {
    name: "calls",
    scope: StreamScope::Types(&["call"]),
    sorts: &[UPDATED, CREATED],
    default_sort: 0,
    person_params: &["person_id"],
    account_param: None,
    user_params: &["user_guid"],
    occurred_param: None,
    association: false,
    unsupported: &["created_at", "sentiment", "disposition"],
    members: call,
};

pub static EMAILS: Stream = Stream {
    name: "emails",
    scope: StreamScope::Types(&["sent_email"]),
    sorts: &[UPDATED, ("send_time", ActivitySort::OccurredAt)],
    default_sort: 0,
    person_params: &["person_id"],
    account_param: None,
    user_params: &[],
    occurred_param: Some("sent_at"),
    association: false,
    unsupported: &[
        "bounced",
        "crm_activity_id",
        "action_id",
        "user_id",
        "status",
        "cadence_id",
        "step_id",
        "one_off",
        "email_addresses",
        "personalization",
    ],
    members: email,
};

pub static NOTES: Stream = Stream {
    name: "notes",
    scope: StreamScope::Types(&["note"]),
    sorts: &[UPDATED, CREATED],
    default_sort: 0,
    person_params: &[],
    account_param: None,
    user_params: &[],
    occurred_param: None,
    association: true,
    unsupported: &[],
    members: note,
};

pub static MEETINGS: Stream = Stream {
    name: "meetings",
    scope: StreamScope::Types(&["meeting"]),
    sorts: &[("start_time", ActivitySort::OccurredAt), CREATED, UPDATED],
    default_sort: 0,
    person_params: &["person_id", "person_ids"],
    account_param: Some("account_id"),
    user_params: &["user_guids"],
    occurred_param: Some("start_time"),
    association: false,
    unsupported: &[
        "status",
        "event_ids",
        "i_cal_uids",
        "task_ids",
        "created_at",
    ],
    members: meeting,
};

/// CRM activities sort by updated_at only: created_at (the id order) over every type has no index
/// that keeps a tenant's page bounded, so it is refused with the valid keys rather than scanned.
pub static CRM_ACTIVITIES: Stream = Stream {
    name: "crm_activities",
    scope: StreamScope::AllActivities,
    sorts: &[UPDATED],
    default_sort: 0,
    person_params: &[],
    account_param: None,
    user_params: &[],
    occurred_param: None,
    association: false,
    unsupported: &[],
    members: crm_activity,
};

/// Positive integer ids of every occurrence of `name` (arrays in any of the three forms).
fn int_ids(errors: &mut Errors, params: &[RawParam], name: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for v in query::values(params, name) {
        match v.parse::<i64>() {
            Ok(n) if n > 0 => out.push(n),
            _ => errors.add(name, format!("'{v}' is not a positive integer id")),
        }
    }
    out
}

/// Validates every parameter of a resource list; all problems are reported at once.
pub fn parse_stream(
    params: &[RawParam],
    s: &Stream,
) -> Result<(ListRequest, &'static str), Errors> {
    query::refuse_nul(params)?;
    let mut errors = Errors::default();
    let mut filtering = Map::new();
    let paging = query::paging(&mut errors, params);
    let (sort, sort_name, descending) =
        query::sorting(&mut errors, params, s.sorts, s.default_sort);

    for name in s.unsupported {
        if params.iter().any(|p| p.name == *name) {
            errors.add(
                name,
                format!(
                    "filtering {} by {name} is not supported: this server keeps no such data",
                    s.name
                ),
            );
        }
    }

    let ids: Vec<ActivityIdFilter> = int_ids(&mut errors, params, "ids")
        .into_iter()
        .map(|id| ActivityIdFilter { id, sl_type: None })
        .collect();
    if !ids.is_empty() {
        filtering.insert(
            "ids".into(),
            json!(ids.iter().map(|f| f.id).collect::<Vec<_>>()),
        );
    }
    let (updated_from, updated_to) =
        query::time_bounds(&mut errors, params, "updated_at", &mut filtering);
    let (occurred_from, occurred_to) = match s.occurred_param {
        Some(name) => query::time_bounds(&mut errors, params, name, &mut filtering),
        None => (None, None),
    };

    let mut resource_kinds = Vec::new();
    let mut resource_ids = Vec::new();
    let mut persons = Vec::new();
    for name in s.person_params {
        let got = int_ids(&mut errors, params, name);
        if !got.is_empty() {
            filtering.insert((*name).into(), json!(got));
        }
        persons.extend(got);
    }
    if !persons.is_empty() {
        resource_kinds.push(ResourceKind::Person);
        resource_ids.extend(persons.into_iter().map(ResourceRef::Int));
    }
    if let Some(name) = s.account_param {
        let accounts = int_ids(&mut errors, params, name);
        if !accounts.is_empty() {
            if !resource_kinds.is_empty() {
                errors.add(name, "cannot be combined with a person filter");
            }
            filtering.insert(name.into(), json!(accounts));
            resource_kinds.push(ResourceKind::Account);
            resource_ids.extend(accounts.into_iter().map(ResourceRef::Int));
        }
    }
    if s.association {
        let kind = query::scalar(params, "associated_with_type");
        let kind = match kind.map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("person") => Some(ResourceKind::Person),
            Some("account") => Some(ResourceKind::Account),
            Some(other) => {
                errors.add(
                    "associated_with_type",
                    format!("'{other}' is not a valid type: use person or account"),
                );
                None
            }
        };
        let id = query::scalar(params, "associated_with_id");
        match (kind, id) {
            (_, Some(v)) if v.parse::<i64>().map_or(true, |n| n < 1) => {
                errors.add(
                    "associated_with_id",
                    format!("'{v}' is not a positive integer id"),
                );
            }
            (None, Some(_)) if query::scalar(params, "associated_with_type").is_none() => {
                errors.add("associated_with_id", "requires associated_with_type");
            }
            (Some(k), id) => {
                filtering.insert("associated_with_type".into(), json!(k.as_str()));
                resource_kinds.push(k);
                if let Some(n) = id.and_then(|v| v.parse::<i64>().ok()) {
                    filtering.insert("associated_with_id".into(), json!(n));
                    resource_ids.push(ResourceRef::Int(n));
                }
            }
            _ => {}
        }
    }

    let mut user_guids = Vec::new();
    for name in s.user_params {
        let got: Vec<String> = query::values(params, name)
            .into_iter()
            .map(str::to_string)
            .collect();
        if !got.is_empty() {
            filtering.insert((*name).into(), json!(got));
        }
        user_guids.extend(got);
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((
        ListRequest {
            filter: HistoryFilter {
                types: Vec::new(),
                occurred_from,
                occurred_to,
                updated_from,
                updated_to,
                pinned: None,
                resource_kinds,
                resource_ids,
                ids,
                user_guids,
                sort,
                descending,
                offset: paging.offset(),
                limit: paging.limit(),
                count: paging.count,
            },
            paging,
            filtering,
        },
        sort_name,
    ))
}

fn ts(o: &mut JsonOut, t: Micros) {
    o.str(rfc3339_micros_text(t).as_str());
}

/// `{"id": id}`, or null.
fn embedded(o: &mut JsonOut, id: Option<i64>) {
    match id {
        Some(id) => {
            o.begin_object();
            o.key("id");
            o.int(id);
            o.end_object();
        }
        None => o.null(),
    }
}

fn user(o: &mut JsonOut, a: &ActivityView) {
    o.begin_object();
    o.key("id");
    o.int(a.owner_id);
    o.key("guid");
    o.uuid(&a.owner_guid);
    o.end_object();
}

/// A string natively given in `static_data`, else null.
fn given_str(o: &mut JsonOut, a: &ActivityView, key: &str) {
    match a.static_data.get(key) {
        Some(Value::String(s)) => o.str(s),
        _ => o.null(),
    }
}

fn given_int(o: &mut JsonOut, a: &ActivityView, key: &str) {
    o.opt_int(a.static_data.get(key).and_then(Value::as_i64));
}

fn given_bool(o: &mut JsonOut, a: &ActivityView, key: &str) {
    match a.static_data.get(key) {
        Some(Value::Bool(b)) => o.bool(*b),
        _ => o.null(),
    }
}

/// Members that are always null here (data this server does not keep).
fn nulls(o: &mut JsonOut, keys: &[&'static str]) {
    for key in keys {
        o.key(key);
        o.null();
    }
}

fn call(o: &mut JsonOut, a: &ActivityView) {
    o.key("id");
    o.int(a.id);
    o.key("to");
    given_str(o, a, "to");
    o.key("duration");
    given_int(o, a, "duration");
    o.key("sentiment");
    given_str(o, a, "sentiment");
    o.key("disposition");
    given_str(o, a, "disposition");
    o.key("created_at");
    ts(o, a.created_at);
    o.key("updated_at");
    ts(o, a.updated_at);
    nulls(o, &["recordings"]);
    o.key("user");
    user(o, a);
    nulls(o, &["action"]);
    o.key("called_person");
    embedded(o, a.lead_id);
    o.key("crm_activity");
    embedded(o, Some(a.id));
    nulls(o, &["note", "cadence", "step"]);
}

fn email(o: &mut JsonOut, a: &ActivityView) {
    o.key("id");
    o.int(a.id);
    o.key("created_at");
    ts(o, a.created_at);
    o.key("updated_at");
    ts(o, a.updated_at);
    o.key("user");
    user(o, a);
    o.key("recipient");
    embedded(o, a.lead_id);
    nulls(o, &["mailing", "action"]);
    o.key("crm_activity");
    embedded(o, Some(a.id));
    nulls(o, &["cadence", "step", "email_template", "task"]);
    o.key("status");
    o.str("sent");
    o.key("bounced");
    given_bool(o, a, "bounced");
    o.key("click_tracking");
    given_bool(o, a, "click_tracking");
    o.key("view_tracking");
    given_bool(o, a, "view_tracking");
    o.key("personalization");
    given_str(o, a, "personalization");
    o.key("recipient_email_address");
    match a.static_data.get("recipient_email_address") {
        Some(Value::String(s)) => o.str(s),
        _ => o.opt_str(a.lead_email.as_deref()),
    }
    nulls(o, &["send_after"]);
    o.key("sent_at");
    ts(o, a.occurred_at);
    o.key("subject");
    given_str(o, a, "subject");
    nulls(o, &["headers", "counts", "error_message"]);
}

fn note(o: &mut JsonOut, a: &ActivityView) {
    o.key("id");
    o.int(a.id);
    o.key("content");
    o.str(&a.note);
    // What a note is associated with: its person (also for a note on one of the person's
    // opportunities), else its account.
    let (kind, with) = match (a.lead_id, a.account_id) {
        (Some(id), _) => (Some("person"), Some(id)),
        (None, Some(id)) => (Some("account"), Some(id)),
        (None, None) => (None, None),
    };
    o.key("associated_type");
    o.opt_str(kind);
    o.key("associated_with");
    embedded(o, with);
    o.key("call");
    embedded(o, a.static_data.get("call_id").and_then(Value::as_i64));
    o.key("user");
    user(o, a);
    o.key("created_at");
    ts(o, a.created_at);
    o.key("updated_at");
    ts(o, a.updated_at);
}

fn meeting(o: &mut JsonOut, a: &ActivityView) {
    o.key("id");
    o.int(a.id);
    o.key("title");
    given_str(o, a, "title");
    o.key("description");
    o.str(&a.note);
    o.key("start_time");
    ts(o, a.occurred_at);
    nulls(o, &["end_time"]);
    o.key("person");
    embedded(o, a.lead_id);
    o.key("account_id");
    match a.account_id {
        Some(id) => o.str(itoa::Buffer::new().format(id)),
        None => o.null(),
    }
    o.key("recipient_email");
    o.opt_str(a.lead_email.as_deref());
    o.key("recipient_name");
    match a.lead_id {
        Some(_) => o.str_parts(&crate::domain::name_parts(
            a.lead_first_name.as_deref().unwrap_or_default(),
            a.lead_last_name.as_deref().unwrap_or_default(),
        )),
        None => o.null(),
    }
    o.key("location");
    given_str(o, a, "location");
    o.key("user");
    user(o, a);
    o.key("created_at");
    ts(o, a.created_at);
    o.key("updated_at");
    ts(o, a.updated_at);
    nulls(
        o,
        &[
            "status",
            "all_day",
            "attendees",
            "guests",
            "booked_by_user",
            "cadence",
            "step",
            "calendar_id",
            "calendar_type",
            "canceled_at",
            "crm_custom_fields",
            "crm_references",
            "event_id",
            "event_source",
            "i_cal_uid",
            "meeting_type",
            "no_show",
            "owned_by_meetings_settings",
            "booked_by_meetings_settings",
            "reschedule_status",
            "strict_attribution",
            "task_id",
        ],
    );
}

/// CrmActivity's `activity_type`: Salesloft's words for calls and emails, else the type itself.
fn crm_activity_type(sl_type: &str) -> &str {
    match sl_type {
        "call" => "phone",
        "sent_email" | "received_email" | "email_reply" | "requested_email" => "email",
        other => other,
    }
}

fn crm_activity(o: &mut JsonOut, a: &ActivityView) {
    o.key("id");
    o.int(a.id);
    o.key("subject");
    o.str(&a.type_display_name);
    o.key("description");
    o.str(&a.note);
    o.key("activity_type");
    o.str(crm_activity_type(&a.salesloft_type));
    o.key("crm_id");
    o.uuid(&a.guid);
    o.key("custom_crm_fields");
    o.raw(a.fields.as_json());
    o.key("person");
    embedded(o, a.lead_id);
    o.key("user");
    user(o, a);
    nulls(o, &["error"]);
    o.key("created_at");
    ts(o, a.created_at);
    o.key("updated_at");
    ts(o, a.updated_at);
}

/// Writes one record of `s` as its `{id}` answer holds it; `callback_token`, when given, is
/// written after the record's own members (a Salesloft webhook's payload).
pub fn write_record(o: &mut JsonOut, s: &Stream, a: &ActivityView, callback_token: Option<&str>) {
    o.begin_object();
    (s.members)(o, a);
    if let Some(token) = callback_token {
        o.key("callback_token");
        o.str(token);
    }
    o.end_object();
}

/// The `{"data": record}` answer of one record of `s` (its `{id}` and the writes' answers).
pub fn record_answer(s: &Stream, a: &ActivityView) -> Response {
    let mut o = JsonOut::with_capacity(page_capacity(1));
    o.begin_object();
    o.key("data");
    write_record(&mut o, s, a, None);
    o.end_object();
    respond(Ok(o))
}

async fn list(app: AppState, user: User, req: Request, s: &'static Stream) -> Response {
    let params = query::parse_raw(req.uri().query());
    let (r, sort_name) = match parse_stream(&params, s) {
        Ok(r) => r,
        Err(errors) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(errors.to_json())).into_response()
        }
    };
    let descending = r.filter.descending;
    let page = match app.service.stream_page(&user, s.scope, r.filter).await {
        Ok(p) => p,
        Err(e) => return SlError::from(e).into_response(),
    };
    let per_page = r.paging.per_page as usize;
    let has_next = page.rows.len() > per_page;
    let rows = &page.rows[..page.rows.len().min(per_page)];
    let metadata = query::metadata(
        r.filtering,
        &r.paging,
        has_next,
        page.total,
        sort_name,
        descending,
    );
    super::list_answer(&metadata, rows, |o, a| {
        write_record(o, s, a, None);
        Ok(())
    })
}

async fn one(
    app: AppState,
    user: User,
    id: Result<Path<String>, PathRejection>,
    s: &'static Stream,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(rejection) => {
            let (status, message) = crate::api::extract::path_rejection(&rejection);
            return SlError::new(status, message).into_response();
        }
    };
    let Some(id) = id.trim().parse::<i64>().ok().filter(|n| *n > 0) else {
        return SlError::not_found().into_response();
    };
    match app.service.stream_record(&user, s.scope, id).await {
        Ok(Some(a)) => record_answer(s, &a),
        Ok(None) => SlError::not_found().into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// A resource list's handler, documented with the parameters every list takes and `$extra`.
macro_rules! list_handler {
    ($name:ident, $stream:ident, $path:literal, $op:literal, $summary:literal, $body:ty,
     $sort:literal, $sort_ty:ty, [$($extra:tt)*]) => {
        #[doc = concat!("`GET ", $path, "`")]
        #[utoipa::path(get, path = $path, tag = "Salesloft", operation_id = $op, summary = $summary,
            description = "Arrays may be sent as `x[]=a&x[]=b`, `x=a&x=b` or `x=a,b`; unknown parameters are ignored; filters Salesloft documents on data this server does not keep are refused with a 422. Every problem with the parameters is answered at once in one 422.",
            params(
                ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 25)"),
                ("page" = Option<super::docs::PageNumber>, Query, description = "Page number (default 1). Pages 101-150 cost 3 from the budget, 151-250 8, 251-500 10, 501 and beyond 30, all else 1"),
                ("include_paging_counts" = Option<bool>, Query, description = "Answer total_count and total_pages"),
                ("limit_paging_counts" = Option<bool>, Query, description = "Cap total_count at 10000"),
                ("sort_by" = Option<$sort_ty>, Query, description = $sort),
                ("sort" = Option<$sort_ty>, Query, description = "Sort key, when sort_by is not given"),
                ("sort_direction" = Option<String>, Query, pattern = "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$", description = "ASC or DESC, any case (default DESC)"),
                ("ids" = Option<Vec<super::docs::RecordId>>, Query, style = Form, explode, description = "Only these records (unknown ids are left out)"),
                ("updated_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; with sort_by=updated_at&sort_direction=ASC a cursor that sees every record once; also gte, lt, lte"),
                ("updated_at[gte]" = Option<String>, Query, format = DateTime),
                ("updated_at[lt]" = Option<String>, Query, format = DateTime),
                ("updated_at[lte]" = Option<String>, Query, format = DateTime),
                $($extra)*
            ),
            responses(
                (status = 200, description = "One page", body = $body),
                (status = 422, description = "Invalid parameters, each named with its problems", body = super::docs::ValidationErrors),
            ))]
        pub async fn $name(
            State(app): State<AppState>,
            Extension(user): Extension<User>,
            req: Request,
        ) -> Response {
            list(app, user, req, &$stream).await
        }
    };
}

/// A resource's `{id}` handler.
macro_rules! one_handler {
    ($name:ident, $stream:ident, $path:literal, $op:literal, $summary:literal, $body:ty) => {
        #[doc = concat!("`GET ", $path, "`")]
        #[utoipa::path(get, path = $path, tag = "Salesloft", operation_id = $op, summary = $summary,
            params(("id" = i64, Path, minimum = 1, description = "The record's integer id")),
            responses(
                (status = 200, description = "The record", body = $body),
                (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = super::docs::ErrorBody),
                (status = 404, description = "No such record the caller may see", body = super::docs::ErrorBody),
            ))]
        pub async fn $name(
            State(app): State<AppState>,
            Extension(user): Extension<User>,
            id: Result<Path<String>, PathRejection>,
        ) -> Response {
            one(app, user, id, &$stream).await
        }
    };
}

list_handler!(calls_list, CALLS, "/v2/activities/calls", "salesloft_calls", "List calls",
    sd::CallList, "updated_at (default) or created_at", sd::CallSortKey, [
    ("person_id" = Option<Vec<super::docs::RecordId>>, Query, style = Form, explode, description = "Only calls on these persons"),
    ("user_guid" = Option<Vec<String>>, Query, style = Form, explode, description = "Only calls these users own"),
]);
one_handler!(
    calls_one,
    CALLS,
    "/v2/activities/calls/{id}",
    "salesloft_call",
    "Fetch a call",
    sd::CallOne
);

list_handler!(emails_list, EMAILS, "/v2/activities/emails", "salesloft_emails", "List emails",
    sd::EmailList, "updated_at (default) or send_time", sd::EmailSortKey, [
    ("person_id" = Option<Vec<super::docs::RecordId>>, Query, style = Form, explode, description = "Only emails to these persons"),
    ("sent_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601 bound on when the email was sent; also gte, lt, lte"),
    ("sent_at[gte]" = Option<String>, Query, format = DateTime),
    ("sent_at[lt]" = Option<String>, Query, format = DateTime),
    ("sent_at[lte]" = Option<String>, Query, format = DateTime),
]);
one_handler!(
    emails_one,
    EMAILS,
    "/v2/activities/emails/{id}",
    "salesloft_email",
    "Fetch an email",
    sd::EmailOne
);

list_handler!(notes_list, NOTES, "/v2/notes", "salesloft_notes", "List notes",
    sd::NoteList, "updated_at (default) or created_at", sd::NoteSortKey, [
    ("associated_with_type" = Option<String>, Query, pattern = "^([Pp][Ee][Rr][Ss][Oo][Nn]|[Aa][Cc][Cc][Oo][Uu][Nn][Tt])$", description = "person or account, any case"),
    ("associated_with_id" = Option<i64>, Query, minimum = 1, description = "The person's or account's id (needs associated_with_type)"),
]);
one_handler!(
    notes_one,
    NOTES,
    "/v2/notes/{id}",
    "salesloft_note",
    "Fetch a note",
    sd::NoteOne
);

list_handler!(meetings_list, MEETINGS, "/v2/meetings", "salesloft_meetings", "List meetings",
    sd::MeetingList, "start_time (default), created_at or updated_at", sd::MeetingSortKey, [
    ("person_id" = Option<Vec<super::docs::RecordId>>, Query, style = Form, explode, description = "Only meetings with these persons"),
    ("person_ids" = Option<Vec<super::docs::RecordId>>, Query, style = Form, explode, description = "Only meetings with these persons"),
    ("account_id" = Option<Vec<super::docs::RecordId>>, Query, style = Form, explode, description = "Only meetings on these accounts (not with a person filter)"),
    ("user_guids" = Option<Vec<String>>, Query, style = Form, explode, description = "Only meetings these users own"),
    ("start_time[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601 bound on the start time; also gte, lt, lte"),
    ("start_time[gte]" = Option<String>, Query, format = DateTime),
    ("start_time[lt]" = Option<String>, Query, format = DateTime),
    ("start_time[lte]" = Option<String>, Query, format = DateTime),
]);

list_handler!(
    crm_activities_list,
    CRM_ACTIVITIES,
    "/v2/crm_activities",
    "salesloft_crm_activities",
    "List CRM activities",
    sd::CrmActivityList,
    "updated_at (the only key)",
    sd::CrmActivitySortKey,
    []
);
one_handler!(
    crm_activities_one,
    CRM_ACTIVITIES,
    "/v2/crm_activities/{id}",
    "salesloft_crm_activity",
    "Fetch a CRM activity",
    sd::CrmActivityOne
);

/// The answer to a method a resource route does not serve.
async fn method_not_allowed() -> SlError {
    SlError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint does not accept this method",
    )
}

/// The activity resources' operations in `/openapi.json` (merged with the dialect's `ApiDoc`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    calls_list,
    calls_one,
    super::writes::calls_create,
    emails_list,
    emails_one,
    notes_list,
    notes_one,
    super::writes::notes_create,
    super::writes::notes_update,
    super::writes::notes_delete,
    meetings_list,
    crm_activities_list,
    crm_activities_one,
))]
pub struct ApiDoc;

/// The activity resources' routes; the dialect puts them behind its Bearer/rate-limit guard.
pub fn routes() -> axum::Router<AppState> {
    use super::writes;
    use axum::routing::get;
    let refuse = |r| crate::api::extract::refuse_other_methods(r, method_not_allowed);
    axum::Router::new()
        .route(
            "/v2/activities/calls",
            refuse(get(calls_list).post(writes::calls_create)),
        )
        .route("/v2/activities/calls/{id}", refuse(get(calls_one)))
        .route("/v2/activities/emails", refuse(get(emails_list)))
        .route("/v2/activities/emails/{id}", refuse(get(emails_one)))
        .route(
            "/v2/notes",
            refuse(get(notes_list).post(writes::notes_create)),
        )
        .route(
            "/v2/notes/{id}",
            refuse(
                get(notes_one)
                    .put(writes::notes_update)
                    .delete(writes::notes_delete),
            ),
        )
        .route("/v2/meetings", refuse(get(meetings_list)))
        .route("/v2/crm_activities", refuse(get(crm_activities_list)))
        .route("/v2/crm_activities/{id}", refuse(get(crm_activities_one)))
}
