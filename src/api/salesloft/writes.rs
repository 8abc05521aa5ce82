//! The writes Salesloft offers on its activity resources: `POST /v2/activities/calls` (log a call
//! on a person) and `POST /v2/notes`, `PUT`/`DELETE /v2/notes/{id}`. Bodies are JSON or
//! form-encoded, as Salesloft's clients send either; problems are answered in Salesloft's 422
//! `{"errors":{field:[…]}}`, every problem at once.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

use super::query::Errors;
use super::streams::{record_answer, CALLS, NOTES};
use super::{stream_docs as sd, SlError};
use crate::api::extract::{body_bytes, path_rejection, BodyUnread, MAX_BODY};
use crate::app::AppState;
use crate::domain::{text, ResourceKind, User};
use crate::service::{SalesloftWrite, WriteRefusal};

/// The longest phone number, disposition, sentiment or subject a write keeps, in characters.
const MAX_SHORT_TEXT: usize = 255;

/// A 422 in Salesloft's shape.
pub(super) fn unprocessable(errors: &Errors) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Json(errors.to_json())).into_response()
}

/// The body as a map of its properties: a JSON object, or a form-encoded body (every value a
/// string). A NUL in any name or value is refused, naming the property.
pub(super) async fn read_body(
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, Response> {
    let bytes = body_bytes(body).await.map_err(|why| {
        let (status, message) = match why {
            BodyUnread::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The request body is larger than {MAX_BODY} bytes"),
            ),
            BodyUnread::TimedOut => (
                StatusCode::REQUEST_TIMEOUT,
                "The request body did not arrive in time".to_string(),
            ),
            BodyUnread::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is receiving too many request bodies; try again shortly".to_string(),
            ),
        };
        SlError::new(status, message).into_response()
    })?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let map = if form {
        form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    } else if bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(SlError::new(
                    StatusCode::BAD_REQUEST,
                    "The request body must be a JSON object",
                )
                .into_response())
            }
            Err(e) => {
                return Err(SlError::new(
                    StatusCode::BAD_REQUEST,
                    format!("The request body is not valid JSON: {e}"),
                )
                .into_response())
            }
        }
    };
    let mut errors = Errors::default();
    for (k, v) in &map {
        if text::has_nul(k) || holds_nul(v) {
            errors.add(k, text::NO_NUL);
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(unprocessable(&errors))
    }
}

fn holds_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => text::has_nul(s),
        Value::Array(a) => a.iter().any(holds_nul),
        Value::Object(m) => m.iter().any(|(k, v)| text::has_nul(k) || holds_nul(v)),
        _ => false,
    }
}

/// Reads typed properties, collecting every problem.
pub(super) struct Fields<'a> {
    pub(super) body: &'a Map<String, Value>,
    pub(super) errors: Errors,
}

impl Fields<'_> {
    /// Present and not null.
    pub(super) fn get(&self, name: &str) -> Option<&Value> {
        self.body.get(name).filter(|v| !v.is_null())
    }

    pub(super) fn required(&mut self, name: &str) {
        if self.get(name).is_none() {
            self.errors.add(name, "can't be blank");
        }
    }

    /// An integer of at least `min`, as a number or a string of digits.
    fn int(&mut self, name: &str, min: i64) -> Option<i64> {
        let v = self.get(name)?;
        let n = match v {
            // `314526.0` is the integer JSON Schema's `integer` says it is.
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n >= min => Some(n),
            _ => {
                self.errors.add(
                    name,
                    format!("must be an integer greater than or equal to {min}"),
                );
                None
            }
        }
    }

    /// Text (a number is taken as its digits), at most `max` characters when given.
    pub(super) fn text(&mut self, name: &str, max: Option<usize>) -> Option<String> {
        let s = match self.get(name)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.errors.add(name, "must be a string");
                return None;
            }
        };
        if let Some(max) = max.filter(|m| s.chars().count() > *m) {
            self.errors
                .add(name, format!("is too long (maximum is {max} characters)"));
            return None;
        }
        Some(s)
    }
}

/// Salesloft's answer to a refused write, naming the parameter it concerns.
fn refused(why: WriteRefusal, resource_param: &str, resource_id: i64) -> Response {
    let mut errors = Errors::default();
    match why {
        WriteRefusal::UnknownResource => {
            errors.add(resource_param, format!("no record with id {resource_id}"))
        }
        WriteRefusal::UnknownUser => errors.add("user_guid", "is not an active user of this team"),
        WriteRefusal::NotAdmin => errors.add(
            "user_guid",
            "only team admins may act on behalf of another user",
        ),
        WriteRefusal::Failed(e) => return SlError::from(e).into_response(),
    }
    unprocessable(&errors)
}

/// `POST /v2/activities/calls` — logs a call on a person: a `call` activity (the tenant's system
/// type for it), visible to every dialect with one `updated_at` clock.
#[utoipa::path(post, path = "/v2/activities/calls", tag = "Salesloft",
    operation_id = "salesloft_call_create", summary = "Create a call",
    description = "`to`, `duration`, `disposition` and `sentiment` are kept in the activity's static_data, `notes` as its note. `action_id` and `linked_call_data_record_ids` name records this server does not keep and are refused; `crm_params` is ignored.",
    request_body(content(
        (sd::CallCreate = "application/json"),
        (sd::CallCreateForm = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The call as stored", body = sd::CallOne),
        (status = 400, description = "The body is not a JSON object", body = super::docs::ErrorBody),
        (status = 422, description = "Invalid properties, each named with its problems", body = super::docs::ValidationErrors),
    ))]
pub async fn calls_create(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    _key: super::KeyClaimed,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut f = Fields {
        body: &body,
        errors: Errors::default(),
    };
    f.required("person_id");
    let person_id = f.int("person_id", 1);
    let mut data = Map::new();
    for name in ["to", "disposition", "sentiment"] {
        if let Some(v) = f.text(name, Some(MAX_SHORT_TEXT)) {
            data.insert(name.into(), json!(v));
        }
    }
    if let Some(d) = f.int("duration", 0) {
        data.insert("duration".into(), json!(d));
    }
    let notes = f.text("notes", None).unwrap_or_default();
    let owner = f.text("user_guid", Some(MAX_SHORT_TEXT));
    if f.get("action_id").is_some() {
        f.errors
            .add("action_id", "no such action: this server keeps no actions");
    }
    let linked = f.get("linked_call_data_record_ids");
    if linked.is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty())) {
        f.errors.add(
            "linked_call_data_record_ids",
            "no such call data record: this server keeps none",
        );
    }
    let (Some(person_id), true) = (person_id, f.errors.is_empty()) else {
        return unprocessable(&f.errors);
    };
    let write = SalesloftWrite {
        sl_type: "call",
        on: ResourceKind::Person,
        resource_id: person_id,
        owner_guid: owner,
        note: notes,
        static_data: data,
    };
    match app.service.log_salesloft_activity(&user, write).await {
        Ok(a) => record_answer(&CALLS, &a),
        Err(why) => refused(why, "person_id", person_id),
    }
}

/// The call a note names in `call_id`: one the caller may see, else a 422 naming `call_id`.
async fn check_call(app: &AppState, user: &User, id: i64) -> Result<(), Response> {
    match app.service.stream_record(user, CALLS.scope, id).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => {
            let mut errors = Errors::default();
            errors.add("call_id", format!("no call with id {id}"));
            Err(unprocessable(&errors))
        }
        Err(e) => Err(SlError::from(e).into_response()),
    }
}

/// `POST /v2/notes` — a `note` activity on a person or an account.
#[utoipa::path(post, path = "/v2/notes", tag = "Salesloft",
    operation_id = "salesloft_note_create", summary = "Create a note",
    description = "`content` is kept as the activity's note, `subject` and `call_id` in its static_data; `skip_crm_sync` is ignored (the store is the CRM). A Sales_User may note only its own persons, not accounts.",
    request_body(content(
        (sd::NoteCreate = "application/json"),
        (sd::NoteCreateForm = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The note as stored", body = sd::NoteOne),
        (status = 400, description = "The body is not a JSON object", body = super::docs::ErrorBody),
        (status = 422, description = "Invalid properties, each named with its problems", body = super::docs::ValidationErrors),
    ))]
pub async fn notes_create(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    _key: super::KeyClaimed,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut f = Fields {
        body: &body,
        errors: Errors::default(),
    };
    for name in ["content", "associated_with_type", "associated_with_id"] {
        f.required(name);
    }
    let content = f.text("content", None);
    let kind = match f
        .text("associated_with_type", Some(MAX_SHORT_TEXT))
        .map(|k| k.trim().to_ascii_lowercase())
        .as_deref()
    {
        None => None,
        Some("person") => Some(ResourceKind::Person),
        Some("account") => Some(ResourceKind::Account),
        Some(other) => {
            f.errors.add(
                "associated_with_type",
                format!("'{other}' is not a valid type: use person or account"),
            );
            None
        }
    };
    let id = f.int("associated_with_id", 1);
    let call_id = f.int("call_id", 1);
    let subject = f.text("subject", Some(MAX_SHORT_TEXT));
    let owner = f.text("user_guid", Some(MAX_SHORT_TEXT));
    let (Some(content), Some(kind), Some(id), true) = (content, kind, id, f.errors.is_empty())
    else {
        return unprocessable(&f.errors);
    };
    let mut data = Map::new();
    if let Some(c) = call_id {
        if let Err(r) = check_call(&app, &user, c).await {
            return r;
        }
        data.insert("call_id".into(), json!(c));
    }
    if let Some(s) = subject {
        data.insert("subject".into(), json!(s));
    }
    let write = SalesloftWrite {
        sl_type: "note",
        on: kind,
        resource_id: id,
        owner_guid: owner,
        note: content,
        static_data: data,
    };
    match app.service.log_salesloft_activity(&user, write).await {
        Ok(a) => record_answer(&NOTES, &a),
        Err(why) => refused(why, "associated_with_id", id),
    }
}

/// A note's id from the path: a positive integer, else the note is unknown.
pub(super) fn note_id(id: Result<Path<String>, PathRejection>) -> Result<Option<i64>, SlError> {
    match id {
        Ok(Path(id)) => Ok(id.trim().parse::<i64>().ok().filter(|n| *n > 0)),
        Err(rejection) => {
            let (status, message) = path_rejection(&rejection);
            Err(SlError::new(status, message))
        }
    }
}

/// `PUT /v2/notes/{id}` — changes a note's content (and call); moves its `updated_at` forward.
#[utoipa::path(put, path = "/v2/notes/{id}", tag = "Salesloft",
    operation_id = "salesloft_note_update", summary = "Update a note",
    params(("id" = i64, Path, minimum = 1, description = "The note's integer id")),
    request_body(content(
        (sd::NoteUpdate = "application/json"),
        (sd::NoteUpdateForm = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The note as stored", body = sd::NoteOne),
        (status = 400, description = "The body is not a JSON object, or the path segment is not UTF-8", body = super::docs::ErrorBody),
        (status = 404, description = "No such note the caller may see", body = super::docs::ErrorBody),
        (status = 422, description = "Invalid properties, each named with its problems", body = super::docs::ValidationErrors),
    ))]
pub async fn notes_update(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    _key: super::KeyClaimed,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let id = match note_id(id) {
        Ok(Some(id)) => id,
        Ok(None) => return SlError::not_found().into_response(),
        Err(e) => return e.into_response(),
    };
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut f = Fields {
        body: &body,
        errors: Errors::default(),
    };
    f.required("content");
    let content = f.text("content", None);
    let call_id = f.int("call_id", 1);
    let (Some(content), true) = (content, f.errors.is_empty()) else {
        return unprocessable(&f.errors);
    };
    let mut patch = Map::new();
    if let Some(c) = call_id {
        if let Err(r) = check_call(&app, &user, c).await {
            return r;
        }
        patch.insert("call_id".into(), json!(c));
    }
    match app
        .service
        .edit_stream_record(&user, NOTES.scope, id, content, patch)
        .await
    {
        Ok(Some(a)) => record_answer(&NOTES, &a),
        Ok(None) => SlError::not_found().into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// `DELETE /v2/notes/{id}` — as Salesloft documents it, repeatable: 204 whether or not the
/// caller had such a note (an unknown id, another tenant's and an already deleted one alike).
#[utoipa::path(delete, path = "/v2/notes/{id}", tag = "Salesloft",
    operation_id = "salesloft_note_delete", summary = "Delete a note",
    params(("id" = i64, Path, minimum = 1, description = "The note's integer id")),
    responses(
        (status = 204, description = "No such note remains (whether or not there was one)"),
        (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = super::docs::ErrorBody),
        (status = 404, description = "The path is no positive 64-bit integer", body = super::docs::ErrorBody),
    ))]
pub async fn notes_delete(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    _key: super::KeyClaimed,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match note_id(id) {
        Ok(Some(id)) => id,
        // No positive 64-bit integer names no note at all (as for GET and PUT); only an id that
        // could be a note gets the repeatable 204.
        Ok(None) => return SlError::new(StatusCode::NOT_FOUND, "Not Found").into_response(),
        Err(e) => return e.into_response(),
    };
    match app
        .service
        .delete_stream_record(&user, NOTES.scope, id)
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}
