//! A bare read sketch for docs/benchmarks.md: about the least a Retrieve page can cost on this
//! stack (axum, tokio, rusqlite, the bundled SQLite, the same JSON writer).
//!
//! It serves a store made by `bench/run.py` with none of the service's work but the seeks and the
//! JSON: no credentials, no body parsing, no record count, no type or user directory (the event
//! name is a constant; the owner is joined), one statement per page, rendered straight from the
//! statement's rows. It answers the wrk requests of `bench/wrk/scenario.lua` (`healthz`,
//! `retrieve`, `sl_filtered`) with pages of the same shape and size as the service's (Retrieve;
//! `activity_histories` filtered by type and person, without counting them), so its ratio to its
//! own /healthz is a ceiling for the full service's ratio on the same machine. It is not part of
//! the service.
//!
//! `cargo run --release --example read_sketch -- STORE/bench.db 127.0.0.1:18195`

use std::cell::RefCell;
use std::collections::HashMap;

use activity_hub::api::json_out::{page_capacity, respond, JsonOut};
use activity_hub::domain::time::{lsq_text, rfc3339_micros_text};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rusqlite::{Connection, OpenFlags};

/// The service's allocator, so that the comparison is of the work and not of malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One page of a lead's activities, newest first, with the columns Retrieve shows (tenant 1, the
/// only one `bench/run.py` creates).
const PAGE: &str = "SELECT a.guid, a.event_code, a.score, a.occurred_at, a.updated_at, a.note,
    a.status, a.fields, l.guid, o.guid, o.first_name
  FROM leads l
  JOIN activities a ON a.tenant_id = l.tenant_id AND a.lead_id = l.id
  JOIN users o ON o.id = a.owner_id
  WHERE l.tenant_id = 1 AND l.guid = ?1 AND +a.event_code < 12000
  ORDER BY a.occurred_at DESC, a.id DESC LIMIT 25";

/// One page of a person's activity histories of one Salesloft type, newest first.
const HISTORIES: &str = "SELECT a.id, a.sl_type, a.occurred_at, a.created_at, a.updated_at,
    a.event_code, a.note, a.fields, a.status, l.id, l.guid, l.first_name, l.last_name, l.email,
    o.guid, o.first_name
  FROM activities a
  JOIN leads l ON l.id = a.lead_id
  JOIN users o ON o.id = a.owner_id
  WHERE a.tenant_id = 1 AND a.res_kind = 'person' AND a.res_id = ?1 AND a.sl_type = ?2
  ORDER BY a.occurred_at DESC, a.id DESC LIMIT 25";

thread_local! {
    /// Each worker thread's read-only connection, opened on first use (as the service's are).
    static CONN: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA mmap_size = 1099511627776; PRAGMA cache_size = -65536;")?;
    Ok(conn)
}

fn page(conn: &Connection, lead: &str) -> rusqlite::Result<serde_json::Result<JsonOut>> {
    let mut stmt = conn.prepare_cached(PAGE)?;
    let mut rows = stmt.query([lead])?;
    let mut o = JsonOut::with_capacity(page_capacity(25));
    o.begin_object();
    o.key("ProspectActivities");
    o.begin_array();
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        n += 1;
        let guid = r.get_ref(0)?.as_str()?;
        o.begin_object();
        o.key("Id");
        o.str(guid);
        o.key("EventCode");
        o.int(r.get(1)?);
        o.key("EventName");
        o.str("Bench Custom Activity");
        o.key("ActivityScore");
        o.int(r.get(2)?);
        o.key("CreatedOn");
        o.str(lsq_text(r.get(3)?).as_str());
        o.key("ActivityType");
        o.int(2);
        o.key("IsEmailType");
        o.bool(false);
        o.key("Type");
        o.str("Outbound");
        o.key("SessionId");
        o.str(guid);
        o.key("TrackLocation");
        o.int(0);
        o.key("Latitude");
        o.int(0);
        o.key("Longitude");
        o.int(0);
        o.key("RelatedProspectId");
        o.str(r.get_ref(8)?.as_str()?);
        o.key("Data");
        o.begin_array();
        for (key, value) in [
            ("CreatedByName", r.get_ref(10)?.as_str()?),
            ("EventName", "Bench Custom Activity"),
            ("NotableEventDescription", r.get_ref(5)?.as_str()?),
            ("HasAttachments", "False"),
        ] {
            o.begin_object();
            o.key("Key");
            o.str(key);
            o.key("Value");
            o.str(value);
            o.end_object();
        }
        o.end_array();
        o.key("ActivityFields");
        if !o.open_object(r.get_ref(7)?.as_str()?) {
            o.begin_object();
        }
        o.key("Status");
        o.str(r.get_ref(6)?.as_str()?);
        o.key("Owner");
        o.str(r.get_ref(9)?.as_str()?);
        o.end_object();
        o.key("ModifiedOn");
        o.str(lsq_text(r.get(4)?).as_str());
        o.end_object();
    }
    o.end_array();
    o.key("RecordCount");
    o.uint(n);
    o.end_object();
    Ok(Ok(o))
}

fn histories(
    conn: &Connection,
    person: i64,
    ty: &str,
) -> rusqlite::Result<serde_json::Result<JsonOut>> {
    let mut stmt = conn.prepare_cached(HISTORIES)?;
    let mut rows = stmt.query(rusqlite::params![person, ty])?;
    let mut o = JsonOut::with_capacity(page_capacity(25));
    o.begin_object();
    o.key("data");
    o.begin_array();
    while let Some(r) = rows.next()? {
        let sl_type = r.get_ref(1)?.as_str()?;
        let id: i64 = r.get(0)?;
        o.begin_object();
        o.key("id");
        o.str_parts(&[sl_type, "-", itoa::Buffer::new().format(id)]);
        o.key("type");
        o.str(sl_type);
        for (key, column) in [("occurred_at", 2), ("created_at", 3), ("updated_at", 4)] {
            o.key_str(key);
            o.str(rfc3339_micros_text(r.get(column)?).as_str());
        }
        o.key("pinned_at");
        o.null();
        o.key("resource_type");
        o.str("person");
        o.key("resource_id");
        o.int(r.get(9)?);
        o.key("user_guid");
        o.str(r.get_ref(14)?.as_str()?);
        o.key("tags");
        o.raw("[]");
        o.key("static_data");
        o.begin_object();
        o.key("activity_event");
        o.int(r.get(5)?);
        o.key("activity_event_name");
        o.str("Bench Custom Activity");
        o.key("note");
        o.str(r.get_ref(6)?.as_str()?);
        o.key("fields");
        o.raw(r.get_ref(7)?.as_str()?);
        o.key("status");
        o.str(r.get_ref(8)?.as_str()?);
        o.end_object();
        o.key("dynamic_data");
        o.begin_object();
        o.key("person");
        o.begin_object();
        o.key("id");
        o.int(r.get(9)?);
        o.key("guid");
        o.str(r.get_ref(10)?.as_str()?);
        let (first, last) = (r.get_ref(11)?.as_str()?, r.get_ref(12)?.as_str()?);
        o.key("first_name");
        o.str(first);
        o.key("last_name");
        o.str(last);
        o.key("display_name");
        o.str_parts(&[first, " ", last]);
        o.key("email_address");
        o.str(r.get_ref(13)?.as_str()?);
        o.end_object();
        o.key("user");
        o.begin_object();
        o.key("guid");
        o.str(r.get_ref(14)?.as_str()?);
        o.key("name");
        o.str(r.get_ref(15)?.as_str()?);
        o.end_object();
        o.end_object();
        o.key("failed_dynamic_resources");
        o.raw("[]");
        o.end_object();
    }
    o.end_array();
    o.key("metadata");
    o.begin_object();
    o.key("paging");
    o.begin_object();
    o.key("per_page");
    o.int(25);
    o.key("current_page");
    o.int(1);
    o.end_object();
    o.end_object();
    o.end_object();
    Ok(Ok(o))
}

/// Runs `f` on this worker thread's connection.
fn with_conn(
    path: &str,
    f: impl FnOnce(&Connection) -> rusqlite::Result<serde_json::Result<JsonOut>>,
) -> Response {
    let result = CONN.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(open(path)?);
        }
        match slot.as_ref() {
            Some(conn) => f(conn),
            None => Err(rusqlite::Error::InvalidQuery),
        }
    });
    match result {
        Ok(written) => respond(written),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn activity_histories(
    axum::extract::State(path): axum::extract::State<&'static str>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let person = q.get("resource_id").and_then(|v| v.parse::<i64>().ok());
    let (Some(person), Some(ty)) = (person, q.get("type")) else {
        return (StatusCode::BAD_REQUEST, "resource_id and type are required").into_response();
    };
    with_conn(path, |c| histories(c, person, ty))
}

async fn retrieve(
    axum::extract::State(path): axum::extract::State<&'static str>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(lead) = q.get("leadId") else {
        return (StatusCode::BAD_REQUEST, "leadId is required").into_response();
    };
    with_conn(path, |c| page(c, lead))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(bind)) = (args.get(1), args.get(2)) else {
        return Err("usage: read_sketch STORE/bench.db HOST:PORT".into());
    };
    let path: &'static str = Box::leak(db.clone().into_boxed_str());
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v2/ProspectActivity.svc/Retrieve", post(retrieve))
        .route("/v2/activity_histories", get(activity_histories))
        .with_state(path);
    let listener = tokio::net::TcpListener::bind(bind.as_str()).await?;
    println!("listening on {bind}");
    axum::serve(listener, app).await?;
    Ok(())
}
