//! A bare read sketch for docs/benchmarks.md: a reference point for the read targets, on this
//! stack (axum, tokio, rusqlite, the bundled SQLite, the service's own JSON writer).
//!
//! It serves a store made by `bench/run.py` with none of the service's work but the joins and the
//! JSON: no credentials, no body parsing, no record count, no in-process directories (each row
//! joins its type and users instead), one statement per page, rendered straight from the
//! statement's rows. It answers the wrk requests of `bench/wrk/scenario.lua` (`healthz`,
//! `retrieve`, `sl_filtered`) with the same rows, byte for byte, as the service's Retrieve and
//! filtered `activity_histories` pages; the envelope differs (Retrieve's `RecordCount` is the
//! page's row count, the histories' `metadata` holds no counts). Its ratio to its own /healthz
//! is therefore about the most the full service could reach on the same machine and store. It is
//! not part of the service, and knows only what the benchmark's data holds: one tenant (id 1),
//! leads that are not deleted, activities on leads (no accounts, no opportunities in the page).
//!
//! `cargo build --release --example read_sketch`, then `bench/ceiling.sh` runs it.

use std::cell::RefCell;
use std::collections::HashMap;

use activity_hub::api::json_out::{page_capacity, respond, JsonOut};
use activity_hub::domain::time::{lsq_text, rfc3339_micros_text};
use activity_hub::domain::{name_parts, TypeKind};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rusqlite::{Connection, OpenFlags, Row};

/// The service's allocator, so that the comparison is of the work and not of malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One page of a lead's activities, newest first, with what Retrieve shows of each. The unary `+`
/// and the bound 12000 (`domain::FIRST_OPPORTUNITY_CODE`) are the service's own: walk the lead's
/// date index and skip opportunities.
const PAGE: &str = "SELECT a.guid, a.event_code, a.score, a.occurred_at, a.updated_at, a.note,
    a.status, a.fields, l.guid, o.guid, c.first_name, c.last_name, t.display_name, t.kind,
    t.direction, t.is_email_type
  FROM leads l
  JOIN activities a ON a.tenant_id = l.tenant_id AND a.lead_id = l.id
  JOIN activity_types t ON t.id = a.type_id
  JOIN users o ON o.id = a.owner_id
  JOIN users c ON c.id = a.created_by
  WHERE l.tenant_id = 1 AND l.guid = ?1 AND +a.event_code < 12000
  ORDER BY a.occurred_at DESC, a.id DESC LIMIT 25";

/// One page of a person's activity histories of one Salesloft type, newest first.
const HISTORIES: &str = "SELECT a.id, a.sl_type, a.occurred_at, a.created_at, a.updated_at,
    a.event_code, a.note, a.fields, a.status, l.id, l.guid, l.first_name, l.last_name, l.email,
    o.guid, o.first_name, o.last_name, t.display_name
  FROM activities a
  JOIN activity_types t ON t.id = a.type_id
  JOIN leads l ON l.id = a.lead_id
  JOIN users o ON o.id = a.owner_id
  WHERE a.tenant_id = 1 AND a.res_kind = 'person' AND a.res_id = ?1 AND a.sl_type = ?2
  ORDER BY a.occurred_at DESC, a.id DESC LIMIT 25";

thread_local! {
    /// Each worker thread's read-only connection, opened on first use and kept, as the service
    /// keeps its inline readers' connections.
    static CONN: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// A read-only connection set up as the service's readers are: memory-mapped reads, 64 MiB cache.
fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA mmap_size = 1099511627776; PRAGMA cache_size = -65536;")?;
    Ok(conn)
}

/// A text column that may be NULL.
fn opt_text<'r>(r: &'r Row, idx: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(r.get_ref(idx)?.as_str_or_null()?)
}

/// Retrieve's page, written as `api::lsq::activities` writes each row.
fn page(conn: &Connection, lead: &str) -> rusqlite::Result<JsonOut> {
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
        let event_name = r.get_ref(12)?.as_str()?;
        let kind = TypeKind::parse(r.get_ref(13)?.as_str()?).unwrap_or(TypeKind::Custom);
        o.begin_object();
        o.key("Id");
        o.str(guid);
        o.key("EventCode");
        o.int(r.get(1)?);
        o.key("EventName");
        o.str(event_name);
        o.key("ActivityScore");
        o.int(r.get(2)?);
        o.key("CreatedOn");
        o.str(lsq_text(r.get(3)?).as_str());
        o.key("ActivityType");
        o.int(kind.lsq_number());
        o.key("IsEmailType");
        o.bool(r.get(15)?);
        o.key("Type");
        o.str(if r.get::<_, i64>(14)? == 1 {
            "Outbound"
        } else {
            "Inbound"
        });
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
        let created_by = name_parts(r.get_ref(10)?.as_str()?, r.get_ref(11)?.as_str()?);
        for (key, value) in [
            ("CreatedByName", &created_by[..]),
            ("EventName", &[event_name]),
            ("NotableEventDescription", &[r.get_ref(5)?.as_str()?]),
            ("HasAttachments", &["False"]),
        ] {
            o.begin_object();
            o.key("Key");
            o.str(key);
            o.key("Value");
            o.str_parts(value);
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
    Ok(o)
}

/// The filtered histories' page, written as `api::salesloft` writes each row of a person.
fn histories(conn: &Connection, person: i64, ty: &str) -> rusqlite::Result<JsonOut> {
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
        o.key("occurred_at");
        o.str(rfc3339_micros_text(r.get(2)?).as_str());
        o.key("created_at");
        o.str(rfc3339_micros_text(r.get(3)?).as_str());
        o.key("updated_at");
        o.str(rfc3339_micros_text(r.get(4)?).as_str());
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
        o.str(r.get_ref(17)?.as_str()?);
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
        let (first, last) = (opt_text(r, 11)?, opt_text(r, 12)?);
        o.key("first_name");
        o.opt_str(first);
        o.key("last_name");
        o.opt_str(last);
        o.key("display_name");
        o.str_parts(&name_parts(
            first.unwrap_or_default(),
            last.unwrap_or_default(),
        ));
        o.key("email_address");
        o.opt_str(opt_text(r, 13)?);
        o.end_object();
        o.key("user");
        o.begin_object();
        o.key("guid");
        o.str(r.get_ref(14)?.as_str()?);
        o.key("name");
        o.str_parts(&name_parts(
            r.get_ref(15)?.as_str()?,
            r.get_ref(16)?.as_str()?,
        ));
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
    Ok(o)
}

/// Runs `f` on this worker thread's connection (opening it first if needed) and answers with
/// its page, or with a 500 naming what failed.
fn with_conn(path: &str, f: impl FnOnce(&Connection) -> rusqlite::Result<JsonOut>) -> Response {
    let result = CONN.with(|cell| {
        let mut slot = cell.borrow_mut();
        let conn = match &mut *slot {
            Some(conn) => conn,
            empty @ None => empty.insert(open(path)?),
        };
        f(conn)
    });
    match result {
        Ok(page) => respond(Ok(page)),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `GET /v2/activity_histories?type=…&resource_id=…`: the person and type are all it reads.
async fn activity_histories(
    State(path): State<&'static str>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let person = q.get("resource_id").and_then(|v| v.parse::<i64>().ok());
    let (Some(person), Some(ty)) = (person, q.get("type")) else {
        return (StatusCode::BAD_REQUEST, "resource_id and type are required").into_response();
    };
    with_conn(path, |c| histories(c, person, ty))
}

/// `POST /v2/ProspectActivity.svc/Retrieve?leadId=…`: the body (paging) is not read; the page is
/// always the first 25.
async fn retrieve(
    State(path): State<&'static str>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(lead) = q.get("leadId") else {
        return (StatusCode::BAD_REQUEST, "leadId is required").into_response();
    };
    with_conn(path, |c| page(c, lead))
}

/// `read_sketch STORE/bench.db HOST:PORT`; prints `listening on …` once it accepts connections.
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(bind)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: read_sketch STORE/bench.db HOST:PORT");
        std::process::exit(2);
    };
    // The path lives as long as the process, as the router's state.
    let path: &'static str = Box::leak(db.clone().into_boxed_str());
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v2/ProspectActivity.svc/Retrieve", post(retrieve))
        .route("/v2/activity_histories", get(activity_histories))
        .with_state(path);
    let listener = match tokio::net::TcpListener::bind(bind.as_str()).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("read_sketch: cannot listen on {bind}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on {bind}");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("read_sketch: {e}");
        std::process::exit(1);
    }
}
