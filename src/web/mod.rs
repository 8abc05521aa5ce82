//! The web UI at `/`: sign-in with an API key, a lead's timeline (filters, paging, a form to post
//! an activity) and an overview (lead search, weekly charts from the count aggregate). HTML is
//! rendered on the server; the only script is `static/app.js`, served from the binary.

mod chart;
mod pages;
mod session;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawQuery, Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use maud::Markup;
use time::macros::format_description;

use crate::api::extract::{authenticate, body_bytes, AuthRefused};
use crate::app::AppState;
use crate::domain::fields::FieldInput;
use crate::domain::{
    ActivityQuery, ActivitySort, ActivityType, ActivityView, CountMode, Micros, RecordKind,
    TypeKind, User,
};
use crate::error::{Error, Field, Missing};
use crate::service::ActivityInput;
use session::{
    cookie, over_tls, random_token, set_cookie, tokens_match, LOGIN_COOKIE, SESSION_COOKIE,
};
pub use session::{Sessions, MAX_SESSIONS, SESSION_LIFETIME};

/// Activities per timeline page.
pub const PAGE_SIZE: u32 = 25;
/// Pinned activities shown above the timeline at most.
pub const MAX_PINNED: u32 = 20;
/// The deepest timeline offset served: older activities are reached by narrowing the date range,
/// so that no page costs more than this many rows of the lead's history.
pub const MAX_OFFSET: u64 = 10_000;
/// The longest chart range, in weeks.
pub const MAX_WEEKS: i64 = 53;
/// The weeks a chart covers when no range is given.
const DEFAULT_WEEKS: i64 = 12;
/// Chart cells read at most (weeks × types × owners).
const MAX_CELLS: u32 = 20_000;
/// Leads listed on the overview when nothing is searched.
const OVERVIEW_LEADS: u32 = 20;

const WEEK: Micros = 7 * DAY;
const DAY: Micros = 86_400_000_000;

const APP_JS: &str = include_str!("static/app.js");
const STYLE_CSS: &str = include_str!("static/style.css");

/// The UI's routes; each router gets its own session table.
pub fn routes() -> Router<AppState> {
    let sessions = Arc::new(Sessions::new(SESSION_LIFETIME, MAX_SESSIONS));
    Router::new()
        .route("/", get(home))
        .route("/ui", get(home))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/overview", get(overview))
        .route("/ui/leads/{guid}", get(lead_page))
        .route("/ui/leads/{guid}/activities", post(post_activity))
        .route("/ui/static/app.js", get(app_js))
        .route("/ui/static/style.css", get(style_css))
        .route("/ui/{*rest}", any(not_found))
        .layer(axum::middleware::map_response(security_headers))
        .layer(Extension(sessions))
}

/// Every UI answer: never cached, never framed, scripts and styles from this origin only.
async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// A signed-in browser: the user its key stands for, and its session's CSRF token.
pub struct Web {
    pub user: User,
    pub csrf: String,
    token: String,
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Web, Response> {
        let sessions = sessions_of(parts);
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let Some((token, session)) = token
            .as_ref()
            .and_then(|t| sessions.get(t).map(|s| (t.clone(), s)))
        else {
            return Err(to_login());
        };
        match state
            .service
            .authenticate_key_digest(session.key_digest)
            .await
        {
            Ok(user) => Ok(Web {
                user,
                csrf: session.csrf,
                token,
            }),
            Err(Error::Unauthorized(_)) => {
                // The key was revoked or its user deactivated: the session ends with it.
                sessions.end(&token);
                Err(to_login())
            }
            Err(e) => Err(error_response(&e)),
        }
    }
}

fn sessions_of(parts: &Parts) -> Arc<Sessions> {
    parts
        .extensions
        .get::<Arc<Sessions>>()
        .cloned()
        // `routes()` always installs the table; a router without it has no sessions at all.
        .unwrap_or_else(|| Arc::new(Sessions::new(SESSION_LIFETIME, 1)))
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

fn to_login() -> Response {
    redirect("/ui/login")
}

fn html(status: StatusCode, page: Markup) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page.into_string(),
    )
        .into_response()
}

fn message_page(status: StatusCode, title: &str, text: &str) -> Response {
    html(status, pages::message(None, title, text))
}

/// A store or service failure as a page (details go to the log).
fn error_response(e: &Error) -> Response {
    match e {
        Error::NotFound(_) => message_page(StatusCode::NOT_FOUND, "Not found", &e.to_string()),
        Error::Unavailable(_) => {
            tracing::warn!(error = %e, "web page: store unavailable");
            message_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The database does not answer; try again in a moment.",
            )
        }
        Error::Internal(_) => {
            tracing::error!(error = %e, "web page failed");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "An internal error occurred; it has been logged.",
            )
        }
        Error::Forbidden(m) => message_page(StatusCode::FORBIDDEN, "Forbidden", m),
        Error::Unauthorized(_) => to_login(),
        _ => message_page(StatusCode::BAD_REQUEST, "Bad request", &e.to_string()),
    }
}

async fn not_found() -> Response {
    message_page(StatusCode::NOT_FOUND, "Not found", "There is no such page.")
}

async fn app_js() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        APP_JS,
    )
        .into_response()
}

async fn style_css() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        )],
        STYLE_CSS,
    )
        .into_response()
}

/// `/`: the overview when signed in, else the sign-in form.
async fn home(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    match Web::from_request_parts(&mut parts, &state).await {
        Ok(_) => redirect("/ui/overview"),
        Err(r) => r,
    }
}

// ----- sign-in ---------------------------------------------------------------------------------

async fn login_form(headers: HeaderMap) -> Response {
    login_page(&headers, StatusCode::OK, None)
}

/// The sign-in form with a fresh sign-in CSRF token (cookie and hidden field alike).
fn login_page(headers: &HeaderMap, status: StatusCode, error: Option<&str>) -> Response {
    let token = random_token();
    let mut resp = html(status, pages::login(&token, error));
    if let Ok(v) = HeaderValue::from_str(&set_cookie(LOGIN_COOKIE, &token, 3600, over_tls(headers)))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// The pairs of an `application/x-www-form-urlencoded` body (at most `MAX_BODY` bytes).
async fn form_pairs(body: Body) -> Result<Vec<(String, String)>, Response> {
    let bytes = body_bytes(body).await.map_err(|_| {
        message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The form is larger than the server accepts.",
        )
    })?;
    Ok(form_urlencoded::parse(&bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

fn pair<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn csrf_refused() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "The form's CSRF token is missing or belongs to another session: open the page again and send its form.",
    )
}

async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let pairs = match form_pairs(body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let expected = cookie(&parts.headers, LOGIN_COOKIE).unwrap_or_default();
    if !tokens_match(pair(&pairs, "csrf").unwrap_or_default(), expected) {
        return login_page(
            &parts.headers,
            StatusCode::FORBIDDEN,
            Some("The sign-in form expired; enter your API key again."),
        );
    }
    let key = pair(&pairs, "api_key").unwrap_or_default().trim();
    if key.is_empty() {
        return login_page(
            &parts.headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("api_key is required: paste your API key (the native Bearer key)."),
        );
    }
    let checked = authenticate(
        &state,
        &parts.extensions,
        state.service.authenticate_bearer(key),
    )
    .await;
    match checked {
        Ok(_) => {
            let sessions = sessions_of(&parts);
            let token = sessions.start(crate::auth::digest(key));
            let secure = over_tls(&parts.headers);
            let mut resp = redirect("/ui/overview");
            for c in [
                set_cookie(SESSION_COOKIE, &token, SESSION_LIFETIME.as_secs(), secure),
                set_cookie(LOGIN_COOKIE, "", 0, secure),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            resp
        }
        Err(AuthRefused::Failed(Error::Unauthorized(_))) => login_page(
            &parts.headers,
            StatusCode::UNAUTHORIZED,
            Some("api_key: no active user holds this API key."),
        ),
        Err(AuthRefused::Failed(e)) => error_response(&e),
        Err(AuthRefused::LockedOut(_)) => login_page(
            &parts.headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&crate::api::extract::locked_out_text(&state)),
        ),
    }
}

async fn logout(web: Web, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let pairs = match form_pairs(body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !tokens_match(pair(&pairs, "csrf").unwrap_or_default(), &web.csrf) {
        return csrf_refused();
    }
    sessions_of(&parts).end(&web.token);
    let mut resp = redirect("/ui/login");
    if let Ok(v) =
        HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", 0, over_tls(&parts.headers)))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

// ----- query strings ---------------------------------------------------------------------------

/// A query string's pairs (the last of a repeated name wins).
fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// Microseconds at 00:00 UTC of a `YYYY-MM-DD` date.
fn parse_date(name: &str, v: &str) -> Result<Micros, String> {
    time::Date::parse(v, format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc().unix_timestamp() * 1_000_000)
        .map_err(|_| format!("{name} must be a date as YYYY-MM-DD, not '{v}'"))
}

/// Microseconds of a `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS]`), read as UTC.
fn parse_local_datetime(v: &str) -> Option<Micros> {
    let v = v.trim();
    let (fmt_min, fmt_sec) = (
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    );
    time::PrimitiveDateTime::parse(v, fmt_min)
        .or_else(|_| time::PrimitiveDateTime::parse(v, fmt_sec))
        .ok()
        .map(|t| t.assume_utc().unix_timestamp() * 1_000_000)
}

/// The Monday 00:00 UTC starting the week of `us` (as the aggregate's triggers compute it).
pub fn week_start(us: Micros) -> Micros {
    us - (((us + 3 * DAY) % WEEK) + WEEK) % WEEK
}

/// `YYYY-MM-DD` of `us`.
fn date_text(us: Micros) -> String {
    time::OffsetDateTime::from_unix_timestamp(us.div_euclid(1_000_000))
        .ok()
        .and_then(|t| t.format(format_description!("[year]-[month]-[day]")).ok())
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM UTC` of `us`.
fn datetime_text(us: Micros) -> String {
    time::OffsetDateTime::from_unix_timestamp(us.div_euclid(1_000_000))
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

// ----- lead page -------------------------------------------------------------------------------

/// The lead page's filters, as given in its query string.
#[derive(Default, Clone)]
pub struct LeadFilters {
    pub event_code: Option<i64>,
    /// An owner's GUID, as given.
    pub owner: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: u64,
    /// The type the post form shows the fields of.
    pub new_type: Option<i64>,
}

impl LeadFilters {
    fn parse(raw: Option<&str>) -> Result<LeadFilters, String> {
        let q = query_map(raw);
        let int = |name: &str| -> Result<Option<i64>, String> {
            q.get(name)
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|_| format!("{name} must be a whole number, not '{v}'"))
                })
                .transpose()
        };
        let page = int("page")?.unwrap_or(0);
        if page < 0 {
            return Err(format!("page must be 0 or more, not {page}"));
        }
        let f = LeadFilters {
            event_code: int("type")?,
            owner: q.get("owner").cloned(),
            from: q.get("from").cloned(),
            to: q.get("to").cloned(),
            page: page as u64,
            new_type: int("new_type")?,
        };
        if let Some(v) = &f.from {
            parse_date("from", v)?;
        }
        if let Some(v) = &f.to {
            parse_date("to", v)?;
        }
        if f.page.saturating_mul(u64::from(PAGE_SIZE)) > MAX_OFFSET {
            return Err(format!(
                "page must be at most {}: narrow the date range to reach older activities",
                MAX_OFFSET / u64::from(PAGE_SIZE)
            ));
        }
        Ok(f)
    }

    /// The query string of these filters, with `page` instead of theirs.
    pub fn query_with_page(&self, page: u64) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(c) = self.event_code {
            s.append_pair("type", &c.to_string());
        }
        if let Some(o) = &self.owner {
            s.append_pair("owner", o);
        }
        if let Some(v) = &self.from {
            s.append_pair("from", v);
        }
        if let Some(v) = &self.to {
            s.append_pair("to", v);
        }
        if page > 0 {
            s.append_pair("page", &page.to_string());
        }
        s.finish()
    }
}

/// What the post form holds when it is shown again with a validation error.
#[derive(Default)]
pub struct PostForm {
    pub event_code: Option<i64>,
    pub note: String,
    pub occurred: String,
    /// Values by schema name.
    pub values: HashMap<String, String>,
    /// The schema name (as the error names it) and the message of the refused field.
    pub field_error: Option<(String, String)>,
    pub type_error: Option<String>,
    pub occurred_error: Option<String>,
    pub form_error: Option<String>,
}

/// What the lead page shows.
pub struct LeadView<'a> {
    pub web: &'a Web,
    pub lead: crate::domain::Lead,
    pub types: Vec<ActivityType>,
    pub users: Vec<User>,
    pub filters: LeadFilters,
    pub pinned: Vec<ActivityView>,
    pub timeline: Vec<ActivityView>,
    pub more: bool,
    pub form: PostForm,
    pub posted: bool,
}

async fn lead_page(
    web: Web,
    State(state): State<AppState>,
    Path(guid): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let filters = match LeadFilters::parse(raw.as_deref()) {
        Ok(f) => f,
        Err(m) => {
            return html(
                StatusCode::BAD_REQUEST,
                pages::message(Some(&web), "Bad filter", &m),
            )
        }
    };
    let posted = query_map(raw.as_deref()).contains_key("posted");
    render_lead(
        &state,
        &web,
        &guid,
        filters,
        PostForm::default(),
        posted,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_lead(
    state: &AppState,
    web: &Web,
    guid: &str,
    filters: LeadFilters,
    form: PostForm,
    posted: bool,
    status: StatusCode,
) -> Response {
    match lead_view(state, web, guid, filters, form, posted).await {
        Ok(Some(view)) => html(status, pages::lead(&view)),
        Ok(None) => html(
            StatusCode::NOT_FOUND,
            pages::message(Some(web), "Not found", "There is no such lead."),
        ),
        Err(e) => error_response(&e),
    }
}

/// The lead page's data: the lead, its pinned activities (first page only) and one page of its
/// timeline, both through the store's lead query the dialects use; `None` when the caller may
/// not see the lead.
async fn lead_view<'a>(
    state: &AppState,
    web: &'a Web,
    guid: &str,
    mut filters: LeadFilters,
    form: PostForm,
    posted: bool,
) -> crate::error::Result<Option<LeadView<'a>>> {
    let svc = &state.service;
    let Some(lead) = svc.find_lead(&web.user, guid).await? else {
        return Ok(None);
    };
    let types = svc.store().list_activity_types(web.user.tenant_id).await?;
    let users = svc.list_users(&web.user).await?;
    let owner_ids: Vec<i64> = match &filters.owner {
        Some(g) => match users
            .iter()
            .find(|u| u.guid.to_string().eq_ignore_ascii_case(g))
        {
            Some(u) => vec![u.id],
            None => {
                return Err(Error::InvalidInput(format!(
                    "owner must be a user of this tenant, not '{g}'"
                )))
            }
        },
        None => Vec::new(),
    };
    let from = filters
        .from
        .as_deref()
        .map(|v| parse_date("from", v))
        .transpose()
        .map_err(Error::InvalidInput)?;
    let to = filters
        .to
        .as_deref()
        .map(|v| parse_date("to", v))
        .transpose()
        .map_err(Error::InvalidInput)?
        .map(|d| d + DAY - 1);
    if filters.new_type.is_none() {
        filters.new_type = form.event_code;
    }
    let base = ActivityQuery {
        records: RecordKind::Activities,
        event_codes: filters.event_code.into_iter().collect(),
        occurred_from: from,
        occurred_to: to,
        owner_ids,
        sort: ActivitySort::OccurredAt,
        descending: true,
        count: CountMode::None,
        ..ActivityQuery::new(web.user.tenant_id)
    };
    let only = web.user.only_leads_of();
    let pinned = if filters.page == 0 {
        let q = ActivityQuery {
            pinned: Some(true),
            limit: MAX_PINNED,
            ..base.clone()
        };
        svc.store()
            .lead_activities(lead.guid, only, &q)
            .await?
            .map(|p| p.rows)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let q = ActivityQuery {
        pinned: Some(false),
        offset: filters.page * u64::from(PAGE_SIZE),
        limit: PAGE_SIZE + 1,
        ..base
    };
    let Some(page) = svc.store().lead_activities(lead.guid, only, &q).await? else {
        return Ok(None);
    };
    let mut timeline = page.rows;
    let more = timeline.len() > PAGE_SIZE as usize;
    timeline.truncate(PAGE_SIZE as usize);
    Ok(Some(LeadView {
        web,
        lead,
        types,
        users,
        filters,
        pinned,
        timeline,
        more,
        form,
        posted,
    }))
}

async fn post_activity(
    web: Web,
    State(state): State<AppState>,
    Path(guid): Path<String>,
    req: Request,
) -> Response {
    let pairs = match form_pairs(req.into_body()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !tokens_match(pair(&pairs, "csrf").unwrap_or_default(), &web.csrf) {
        return csrf_refused();
    }
    let mut form = PostForm {
        note: pair(&pairs, "note").unwrap_or_default().to_string(),
        occurred: pair(&pairs, "occurred")
            .unwrap_or_default()
            .trim()
            .to_string(),
        ..PostForm::default()
    };
    let code = pair(&pairs, "type").map(str::trim).unwrap_or_default();
    match code.parse::<i64>() {
        Ok(c) => form.event_code = Some(c),
        Err(_) => {
            form.type_error = Some(if code.is_empty() {
                "ActivityEvent is required: choose an activity type".to_string()
            } else {
                format!("ActivityEvent must be an activity type's code, not '{code}'")
            })
        }
    }
    let mut fields = Vec::new();
    for (k, v) in &pairs {
        if let Some(name) = k.strip_prefix("f.") {
            form.values.insert(name.to_string(), v.clone());
            fields.push(FieldInput {
                schema_name: name.to_string(),
                value: v.clone(),
            });
        }
    }
    let occurred_at = if form.occurred.is_empty() {
        None
    } else {
        match parse_local_datetime(&form.occurred) {
            Some(t) => Some(t),
            None => {
                form.occurred_error = Some(format!(
                    "occurred must be a date and time (YYYY-MM-DDTHH:MM), not '{}'",
                    form.occurred
                ));
                None
            }
        }
    };
    let Some(event_code) = form.event_code.filter(|_| form.occurred_error.is_none()) else {
        return render_lead(
            &state,
            &web,
            &guid,
            LeadFilters::default(),
            form,
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let input = ActivityInput {
        event_code: Some(event_code),
        note: Some(form.note.clone()).filter(|n| !n.trim().is_empty()),
        occurred_at,
        owner_email: None,
        fields,
        skip_option_check: false,
    };
    match state.service.post_activity(&web.user, &guid, input).await {
        Ok(_) => redirect(&format!("/ui/leads/{}?posted=1", guid.trim())),
        Err(e) => {
            match &e {
                Error::InvalidValue {
                    field: Field::ActivityField(name),
                    ..
                } => form.field_error = Some((name.clone(), e.to_string())),
                Error::Required(Field::EventCode)
                | Error::NotFound(Missing::EventCode(_))
                | Error::NotFound(Missing::OpportunityTypeForActivity(_)) => {
                    form.type_error = Some(e.to_string())
                }
                Error::NotFound(Missing::Lead) => {
                    return html(
                        StatusCode::NOT_FOUND,
                        pages::message(Some(&web), "Not found", "There is no such lead."),
                    )
                }
                Error::Unavailable(_) | Error::Internal(_) => return error_response(&e),
                _ => form.form_error = Some(e.to_string()),
            }
            render_lead(
                &state,
                &web,
                &guid,
                LeadFilters::default(),
                form,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The types an activity can be posted with from the page (not opportunities).
pub fn postable(types: &[ActivityType]) -> impl Iterator<Item = &ActivityType> {
    types.iter().filter(|t| t.kind != TypeKind::Opportunity)
}

// ----- overview --------------------------------------------------------------------------------

/// What the overview shows.
pub struct OverviewView<'a> {
    pub web: &'a Web,
    pub search: String,
    pub leads: Vec<crate::domain::Lead>,
    pub from: String,
    pub to: String,
    pub range_error: Option<String>,
    /// Week starts (`YYYY-MM-DD`), oldest first.
    pub weeks: Vec<String>,
    /// Types with activities in the range: (display name, count per week).
    pub series: Vec<(String, Vec<i64>)>,
    /// Owners with activities in the range: (name, count), most first.
    pub owners: Vec<(String, i64)>,
    pub truncated: bool,
}

async fn overview(web: Web, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    match overview_view(&state, &web, raw.as_deref()).await {
        Ok(v) => html(StatusCode::OK, pages::overview(&v)),
        Err(e) => error_response(&e),
    }
}

async fn overview_view<'a>(
    state: &AppState,
    web: &'a Web,
    raw: Option<&str>,
) -> crate::error::Result<OverviewView<'a>> {
    let svc = &state.service;
    let q = query_map(raw);
    let search = q.get("q").cloned().unwrap_or_default();
    let leads = if search.is_empty() {
        svc.store()
            .list_leads(
                web.user.tenant_id,
                web.user.only_leads_of(),
                0,
                OVERVIEW_LEADS,
            )
            .await?
    } else {
        svc.quick_search_leads(&web.user, &search).await?
    };
    let today = week_start(crate::domain::time::now_micros());
    let mut range_error = None;
    let mut date = |name: &str, default: Micros| match q.get(name) {
        Some(v) => parse_date(name, v).unwrap_or_else(|m| {
            range_error = Some(m);
            default
        }),
        None => default,
    };
    let mut from = week_start(date("from", today - (DEFAULT_WEEKS - 1) * WEEK));
    let mut to = week_start(date("to", crate::domain::time::now_micros()));
    if range_error.is_none() && to < from {
        range_error = Some("to must not be before from".to_string());
    } else if range_error.is_none() && (to - from) / WEEK >= MAX_WEEKS {
        range_error = Some(format!("the range must be at most {MAX_WEEKS} weeks"));
    }
    if range_error.is_some() {
        to = today;
        from = today - (DEFAULT_WEEKS - 1) * WEEK;
    }
    let cells = svc
        .store()
        .weekly_counts(
            web.user.tenant_id,
            web.user.only_leads_of(),
            from,
            to + WEEK,
            MAX_CELLS,
        )
        .await?;
    let truncated = cells.len() >= MAX_CELLS as usize;
    let weeks: Vec<Micros> = (0..=(to - from) / WEEK).map(|i| from + i * WEEK).collect();
    let types = svc.store().list_activity_types(web.user.tenant_id).await?;
    let users = svc.list_users(&web.user).await?;
    let mut series: Vec<(i64, String, Vec<i64>)> = Vec::new();
    let mut owners: HashMap<i64, i64> = HashMap::new();
    for c in &cells {
        let Ok(w) = usize::try_from((c.week_start - from) / WEEK) else {
            continue;
        };
        if w >= weeks.len() {
            continue;
        }
        let idx = match series.iter().position(|s| s.0 == c.type_id) {
            Some(i) => i,
            None => {
                let name = types
                    .iter()
                    .find(|t| t.id == c.type_id)
                    .map(|t| t.display_name.clone())
                    .unwrap_or_else(|| format!("type {}", c.type_id));
                series.push((c.type_id, name, vec![0; weeks.len()]));
                series.len() - 1
            }
        };
        series[idx].2[w] += c.count;
        *owners.entry(c.owner_id).or_default() += c.count;
    }
    series.sort_by(|a, b| a.1.cmp(&b.1));
    let mut owners: Vec<(String, i64)> = owners
        .into_iter()
        .map(|(id, n)| {
            let name = users
                .iter()
                .find(|u| u.id == id)
                .map(|u| {
                    let n = u.full_name();
                    if n.trim().is_empty() {
                        u.email.clone()
                    } else {
                        n
                    }
                })
                .unwrap_or_else(|| format!("user {id}"));
            (name, n)
        })
        .collect();
    owners.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(OverviewView {
        web,
        search,
        leads,
        from: date_text(from),
        to: date_text(to),
        range_error,
        weeks: weeks.iter().map(|w| date_text(*w)).collect(),
        series: series.into_iter().map(|(_, n, c)| (n, c)).collect(),
        owners,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-12-06 is a Sunday; its week started on Monday 2026-11-30.
        let sunday = parse_date("d", "2026-12-06").unwrap() + 23 * 3_600_000_000;
        assert_eq!(date_text(week_start(sunday)), "2026-11-30");
        let monday = parse_date("d", "2026-11-30").unwrap();
        assert_eq!(week_start(monday), monday);
        assert_eq!(date_text(week_start(-1)), "1969-12-29");
    }

    #[test]
    fn filters_name_the_bad_value() {
        let e = LeadFilters::parse(Some("from=yesterday")).err().unwrap();
        assert!(e.contains("from must be a date"), "{e}");
        let e = LeadFilters::parse(Some("type=call")).err().unwrap();
        assert!(e.contains("type must be a whole number"), "{e}");
        let e = LeadFilters::parse(Some("page=100000")).err().unwrap();
        assert!(e.contains("page must be at most"), "{e}");
        let f = LeadFilters::parse(Some("type=201&owner=x&page=2")).unwrap();
        assert_eq!(f.query_with_page(3), "type=201&owner=x&page=3");
        assert_eq!(
            parse_local_datetime("2026-12-06T10:30"),
            Some(parse_date("d", "2026-12-06").unwrap() + 10 * 3_600_000_000 + 30 * 60_000_000)
        );
        assert_eq!(parse_local_datetime("10:30"), None);
    }
}
