//! The PostgreSQL backend: a connection pool, one transaction per command, multi-row statements
//! for batches, and the same index-backed query shapes as the SQLite backend.
//!
//! Several server processes may share one database. What SQLite gets from its single writer
//! thread, this backend gets from row locks: every write that hands out timestamps first advances
//! its tenant's clock (`UPDATE tenants … RETURNING clock`), which locks the tenant's row until
//! commit, so one tenant's writes commit in timestamp order, whichever process makes them.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, Json, ToSql};
use tokio_postgres::{IsolationLevel, NoTls, Row};
use uuid::Uuid;

use super::{redact_url, Store, UserCredentials};
use crate::domain::rate::{decide, Decision};
use crate::domain::{
    time::now_micros, Account, ActivityQuery, ActivitySort, ActivityType, ActivityUpdate,
    ActivityView, CountMode, FieldDef, Lead, LeadKey, NewAccount, NewActivity, NewActivityType,
    NewLead, NewUser, Page, RecordKind, ResourceKind, Role, Tenant, TypeFilter, TypeKind, User,
    FIRST_CUSTOM_CODE, FIRST_OPPORTUNITY_CODE,
};
use crate::error::{Error, Result};

/// Migrations in order; `schema_migrations` records which ones a database has.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_salesloft_native.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_custom_type_names.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_pinned_order.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_lead_owner.sql"),
    ),
    (
        6,
        include_str!("../../migrations/postgres/0006_resource_type_covering.sql"),
    ),
];
/// Arbitrary constant naming the advisory lock that serialises migrations of processes starting
/// at the same time against one database.
const MIGRATION_LOCK: i64 = 0x6163_7469_7669_7479;
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (or for a new one to be made) before it gets
/// `Unavailable`: long enough for a busy pool, short enough that a dead database answers fast.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// A parameter list for statements whose shape is built at run time.
type Params = Vec<Box<dyn ToSql + Sync + Send>>;

pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connects (checking the database answers), then applies pending migrations.
    pub async fn open(url: &str) -> std::result::Result<PgStore, String> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| format!("invalid database URL {}: {}", redact_url(url), chain(&e)))?;
        let shown = describe(&config);
        let fail = |e: String| format!("cannot connect to {shown}: {e}");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("activity-hub");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection the server closed (restart, pg_terminate_backend) reports itself
                // closed and is dropped on checkout, so the pool heals without a probe query per
                // checkout. A call that meets a backend dying under it (the few ms between the
                // server's kill and our connection task reading it) fails once with
                // `Unavailable` (503), never 500; `Verified` would not close that race either,
                // only move it, at one extra round trip per call. tests/pg_failures.rs.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let mut client = pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => fail(chain(&e)),
            other => fail(chain(&other)),
        })?;
        migrate(&mut client)
            .await
            .map_err(|e| format!("migration of {shown} failed: {e}"))?;
        drop(client);
        Ok(PgStore { pool })
    }

    async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// `postgres://user@host:port/db` from a parsed config: never the password, wherever the URL
/// carried it (userinfo or `?password=`), and none of the other query parameters.
fn describe(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let hosts = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                tokio_postgres::config::Host::Tcp(name) if name.contains(':') => {
                    format!("[{name}]")
                }
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match ports.get(i).or(ports.first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or_default();
    format!("postgres://{user}{hosts}/{db}")
}

async fn migrate(client: &mut Object) -> Result<()> {
    let tx = client.transaction().await.map_err(map_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(map_err)?;
    // Quiet: "already exists, skipping" notices would reach the log (and the CLI's stderr).
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await
        .map_err(map_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version bigint PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(map_err)?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(map_err)?;
    let applied: i64 = get(&row, 0)?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
        tx.batch_execute(sql).await.map_err(map_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)
}

/// An error and its causes on one line (tokio-postgres puts the useful part in the source).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

/// Any failure to get a connection (a pool timeout, or the server refusing a new one for whatever
/// reason: down, not accepting connections, too many clients) means the store is unavailable.
fn pool_err(e: PoolError) -> Error {
    Error::Unavailable(format!("no database connection: {}", chain(&e)))
}

/// Turns a PostgreSQL error into the domain's: unique violations become `Duplicate` naming the
/// field (the same names as the SQLite backend), lost connections and a server shutting down
/// become `Unavailable`.
fn map_err(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            let constraint = db.constraint().unwrap_or_default();
            let field = if constraint.contains("email") {
                "EmailAddress"
            } else if constraint.contains("mobile") {
                "Mobile"
            } else if constraint.contains("phone") {
                "Phone"
            } else if constraint == "activity_types_name" {
                "ActivityEventName"
            } else if constraint == "activity_types_code" {
                "ActivityEvent"
            } else {
                "a unique field"
            };
            return Error::Duplicate(format!("A record with the same {field} already exists"));
        }
        // 08: connection exception, 53: insufficient resources, 57: operator intervention
        // (shutdown, pg_terminate_backend); serialization failures and deadlocks are transient.
        let class = &code.code()[..2.min(code.code().len())];
        if matches!(class, "08" | "53" | "57")
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return Error::Unavailable(db.message().to_string());
        }
        return Error::Internal(format!("{}: {}", code.code(), db.message()));
    }
    if e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
        return Error::Unavailable(format!("lost the database connection: {}", chain(&e)));
    }
    Error::Internal(chain(&e))
}

/// A column of `row`, failing (not panicking) when its type is not what the code expects.
fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T> {
    row.try_get(idx)
        .map_err(|e| Error::Internal(format!("column {idx}: {}", chain(&e))))
}

fn json<T: serde::de::DeserializeOwned>(row: &Row, idx: usize) -> Result<T> {
    let Json(v): Json<T> = get(row, idx)?;
    Ok(v)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(Error::internal)
}

fn to_json_text<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}

async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.query(&stmt, params).await.map_err(map_err)
}

async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.query_opt(&stmt, params).await.map_err(map_err)
}

async fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.query_one(&stmt, params).await.map_err(map_err)
}

async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.execute(&stmt, params).await.map_err(map_err)
}

fn refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

const USER_COLS: &str =
    "u.id, u.guid, u.tenant_id, t.guid, u.email, u.first_name, u.last_name, u.role, u.active, u.secret_key_digest";

fn user_row(row: &Row) -> Result<UserCredentials> {
    let role: String = get(row, 7)?;
    Ok(UserCredentials {
        user: User {
            id: get(row, 0)?,
            guid: get(row, 1)?,
            tenant_id: get(row, 2)?,
            tenant_guid: get(row, 3)?,
            email: get(row, 4)?,
            first_name: get(row, 5)?,
            last_name: get(row, 6)?,
            role: Role::parse(&role).unwrap_or(Role::SalesUser),
            active: get(row, 8)?,
        },
        secret_key_digest: get(row, 9)?,
    })
}

async fn query_users<C: GenericClient>(
    c: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<UserCredentials>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE {filter} ORDER BY u.id"
    );
    query(c, &sql, params).await?.iter().map(user_row).collect()
}

async fn insert_user<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    u: &NewUser,
    now: i64,
) -> Result<i64> {
    let row = query_one(
        c,
        "INSERT INTO users (tenant_id, guid, email, email_lc, first_name, last_name, role, active,
            access_key_digest, secret_key_digest, api_key_digest, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8, $9, $10, $11) RETURNING id",
        &[
            &tenant_id,
            &u.guid,
            &u.email,
            &u.email.to_lowercase(),
            &u.first_name,
            &u.last_name,
            &u.role.as_str(),
            &&u.access_key_digest[..],
            &&u.secret_key_digest[..],
            &&u.api_key_digest[..],
            &now,
        ],
    )
    .await
    .map_err(|e| match e {
        Error::Duplicate(_) => Error::Duplicate(format!(
            "A user with email '{}' already exists in this tenant",
            u.email
        )),
        other => other,
    })?;
    get(&row, 0)
}

/// Inserts activity types in one statement; types without a code get the next free ones of their
/// range. Callers hold the tenant's row lock, so concurrent processes cannot pick the same code.
async fn insert_types<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    types: &[NewActivityType],
    now: i64,
) -> Result<Vec<i64>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let mut next: HashMap<bool, i64> = HashMap::new();
    let mut codes = Vec::with_capacity(types.len());
    for t in types {
        let code = match t.event_code {
            Some(c) => c,
            None => {
                let opportunity = t.kind == TypeKind::Opportunity;
                let code = match next.get(&opportunity) {
                    Some(n) => *n,
                    None => {
                        let (lo, hi) = match opportunity {
                            true => (FIRST_OPPORTUNITY_CODE, i64::MAX),
                            false => (FIRST_CUSTOM_CODE, FIRST_OPPORTUNITY_CODE),
                        };
                        let row = query_one(
                            c,
                            "SELECT max(event_code) FROM activity_types
                              WHERE tenant_id = $1 AND event_code >= $2 AND event_code < $3",
                            &[&tenant_id, &lo, &hi],
                        )
                        .await?;
                        get::<Option<i64>>(&row, 0)?.map_or(lo, |m| m + 1)
                    }
                };
                next.insert(opportunity, code + 1);
                code
            }
        };
        codes.push(code);
    }
    let guids: Vec<Uuid> = types.iter().map(|t| t.guid).collect();
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    let names_lc: Vec<String> = types.iter().map(|t| t.name.to_lowercase()).collect();
    let displays: Vec<&str> = types.iter().map(|t| t.display_name.as_str()).collect();
    let scores: Vec<i64> = types.iter().map(|t| t.score).collect();
    let descriptions: Vec<&str> = types.iter().map(|t| t.description.as_str()).collect();
    let directions: Vec<i64> = types.iter().map(|t| t.direction).collect();
    let kinds: Vec<&str> = types.iter().map(|t| t.kind.as_str()).collect();
    let emails: Vec<bool> = types.iter().map(|t| t.is_email_type).collect();
    let sl_types: Vec<&str> = types.iter().map(|t| t.salesloft_type.as_str()).collect();
    let fields: Vec<String> = types
        .iter()
        .map(|t| to_json_text(&t.fields))
        .collect::<Result<_>>()?;
    let rows = query(
        c,
        "INSERT INTO activity_types (tenant_id, guid, event_code, name, name_lc, display_name, score,
            description, direction, kind, is_email_type, salesloft_type, fields, created_at, updated_at)
         SELECT $1, v.guid, v.code, v.name, v.name_lc, v.display_name, v.score, v.description,
                v.direction, v.kind, v.is_email, v.sl_type, v.fields::jsonb, $2, $2
           FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                       $9::text[], $10::bigint[], $11::text[], $12::boolean[], $13::text[], $14::text[])
                WITH ORDINALITY AS v(guid, code, name, name_lc, display_name, score, description,
                                     direction, kind, is_email, sl_type, fields, ord)
          ORDER BY v.ord
         RETURNING id, guid",
        &[
            &tenant_id,
            &now,
            &guids,
            &codes,
            &names,
            &names_lc,
            &displays,
            &scores,
            &descriptions,
            &directions,
            &kinds,
            &emails,
            &sl_types,
            &fields,
        ],
    )
    .await?;
    ids_in_order(&guids, &rows)
}

/// The ids `RETURNING id, guid` gave, in the order of `guids` (PostgreSQL does not promise that
/// RETURNING follows the SELECT's order, so rows are matched by GUID).
fn ids_in_order(guids: &[Uuid], rows: &[Row]) -> Result<Vec<i64>> {
    let mut by_guid = HashMap::with_capacity(rows.len());
    for r in rows {
        by_guid.insert(get::<Uuid>(r, 1)?, get::<i64>(r, 0)?);
    }
    guids
        .iter()
        .map(|g| {
            by_guid
                .get(g)
                .copied()
                .ok_or_else(|| Error::Internal(format!("inserted row {g} not returned")))
        })
        .collect()
}

const TYPE_COLS: &str = "id, guid, event_code, name, display_name, score, description, direction, kind, is_email_type, salesloft_type, fields";

fn type_row(row: &Row) -> Result<ActivityType> {
    let kind: String = get(row, 8)?;
    Ok(ActivityType {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        event_code: get(row, 2)?,
        name: get(row, 3)?,
        display_name: get(row, 4)?,
        score: get(row, 5)?,
        description: get(row, 6)?,
        direction: get(row, 7)?,
        kind: TypeKind::parse(&kind).unwrap_or(TypeKind::Custom),
        is_email_type: get(row, 9)?,
        salesloft_type: get(row, 10)?,
        fields: json::<Vec<FieldDef>>(row, 11)?,
    })
}

const LEAD_COLS: &str = "l.id, l.guid, l.tenant_id, l.first_name, l.last_name, l.email, l.phone, l.mobile, l.do_not_call,
    l.do_not_email, l.owner_id, o.guid, o.first_name, o.last_name, l.score, l.engagement_score, l.attributes,
    l.created_at, l.updated_at";

fn lead_row(row: &Row) -> Result<Lead> {
    let first: String = get(row, 12)?;
    let last: String = get(row, 13)?;
    Ok(Lead {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        tenant_id: get(row, 2)?,
        first_name: get(row, 3)?,
        last_name: get(row, 4)?,
        email: get(row, 5)?,
        phone: get(row, 6)?,
        mobile: get(row, 7)?,
        do_not_call: get(row, 8)?,
        do_not_email: get(row, 9)?,
        owner_id: get(row, 10)?,
        owner_guid: get(row, 11)?,
        owner_name: crate::domain::join_name(&first, &last),
        score: get(row, 14)?,
        engagement_score: get(row, 15)?,
        attributes: json(row, 16)?,
        created_at: get(row, 17)?,
        updated_at: get(row, 18)?,
    })
}

/// Inserts leads in one multi-row statement and returns their ids in order.
async fn insert_leads<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    leads: &[NewLead],
    now: i64,
) -> Result<Vec<i64>> {
    if leads.is_empty() {
        return Ok(Vec::new());
    }
    let guids: Vec<Uuid> = leads.iter().map(|l| l.guid).collect();
    let firsts: Vec<Option<&str>> = leads.iter().map(|l| l.first_name.as_deref()).collect();
    let lasts: Vec<Option<&str>> = leads.iter().map(|l| l.last_name.as_deref()).collect();
    let emails: Vec<Option<&str>> = leads.iter().map(|l| l.email.as_deref()).collect();
    let emails_lc: Vec<Option<String>> = leads
        .iter()
        .map(|l| l.email.as_ref().map(|e| e.to_lowercase()))
        .collect();
    let phones: Vec<Option<&str>> = leads.iter().map(|l| l.phone.as_deref()).collect();
    let mobiles: Vec<Option<&str>> = leads.iter().map(|l| l.mobile.as_deref()).collect();
    let dncs: Vec<bool> = leads.iter().map(|l| l.do_not_call).collect();
    let dnes: Vec<bool> = leads.iter().map(|l| l.do_not_email).collect();
    let owners: Vec<i64> = leads.iter().map(|l| l.owner_id).collect();
    let attributes: Vec<String> = leads
        .iter()
        .map(|l| to_json_text(&l.attributes))
        .collect::<Result<_>>()?;
    let rows = query(
        c,
        "INSERT INTO leads (tenant_id, guid, first_name, last_name, email, email_lc, phone, mobile,
            do_not_call, do_not_email, owner_id, attributes, created_at, updated_at)
         SELECT $1, v.guid, v.first_name, v.last_name, v.email, v.email_lc, v.phone, v.mobile,
                v.dnc, v.dne, v.owner_id, v.attributes::jsonb, $2, $2
           FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::boolean[], $11::boolean[], $12::bigint[], $13::text[])
                WITH ORDINALITY AS v(guid, first_name, last_name, email, email_lc, phone, mobile,
                                     dnc, dne, owner_id, attributes, ord)
          ORDER BY v.ord
         RETURNING id, guid",
        &[
            &tenant_id,
            &now,
            &guids,
            &firsts,
            &lasts,
            &emails,
            &emails_lc,
            &phones,
            &mobiles,
            &dncs,
            &dnes,
            &owners,
            &attributes,
        ],
    )
    .await?;
    ids_in_order(&guids, &rows)
}

/// Advances the tenant's clock by `n` ticks and returns the first of the `n` fresh timestamps.
/// The UPDATE locks the tenant's row until the transaction ends, so writers of one tenant (in any
/// process) take their timestamps and commit one after the other.
async fn tick<C: GenericClient>(c: &C, tenant_id: i64, n: i64) -> Result<i64> {
    let row = query_opt(
        c,
        "UPDATE tenants SET clock = GREATEST(clock + $2, $3) WHERE id = $1 RETURNING clock",
        &[&tenant_id, &n, &now_micros()],
    )
    .await?
    .ok_or_else(|| Error::NotFound("tenant does not exist".into()))?;
    let last: i64 = get(&row, 0)?;
    Ok(last - n + 1)
}

/// The ids of activities `sql` selects, in id order.
async fn activity_ids<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<i64>> {
    query(c, sql, params)
        .await?
        .iter()
        .map(|r| get::<i64>(r, 0))
        .collect()
}

/// Gives the activities `ids` (in this order) fresh `updated_at`s from the tenant clock, and the
/// Salesloft type `sl_type` when given: what the Salesloft dialect shows of them changed, and
/// cursor clients only see what moved forward.
async fn restamp<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    ids: &[i64],
    sl_type: Option<&str>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let first = tick(c, tenant_id, ids.len() as i64).await?;
    execute(
        c,
        "UPDATE activities a SET sl_type = coalesce($2, a.sl_type), updated_at = $3 + v.ord - 1
           FROM unnest($4::bigint[]) WITH ORDINALITY AS v(id, ord)
          WHERE a.tenant_id = $1 AND a.id = v.id",
        &[&tenant_id, &sl_type, &first, &ids],
    )
    .await?;
    Ok(())
}

/// Keeps `activities.sl_type` in step with a type whose Salesloft type changed.
async fn restamp_sl_type<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    type_id: i64,
    sl_type: &str,
) -> Result<()> {
    let ids = activity_ids(
        c,
        "SELECT id FROM activities WHERE tenant_id = $1 AND type_id = $2 AND sl_type <> $3 ORDER BY id",
        &[&tenant_id, &type_id, &sl_type],
    )
    .await?;
    restamp(c, tenant_id, &ids, Some(sl_type)).await
}

/// Restamps each activity of a lead whose lead changed (a deleted lead becomes a failed dynamic
/// resource in the Salesloft dialect).
async fn restamp_lead_activities<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    lead_id: i64,
) -> Result<()> {
    let ids = activity_ids(
        c,
        "SELECT id FROM activities WHERE tenant_id = $1 AND lead_id = $2 ORDER BY id",
        &[&tenant_id, &lead_id],
    )
    .await?;
    restamp(c, tenant_id, &ids, None).await
}

const ACCOUNT_SELECT: &str =
    "SELECT ac.id, ac.guid, ac.name, ac.domain, ac.owner_id, o.guid, ac.created_at, ac.updated_at
  FROM accounts ac JOIN users o ON o.id = ac.owner_id";

fn account_row(row: &Row) -> Result<Account> {
    Ok(Account {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        name: get(row, 2)?,
        domain: get(row, 3)?,
        owner_id: get(row, 4)?,
        owner_guid: get(row, 5)?,
        created_at: get(row, 6)?,
        updated_at: get(row, 7)?,
    })
}

const ACTIVITY_SELECT: &str = "SELECT a.id, a.guid, a.type_id, a.event_code, t.name, t.display_name, t.kind, t.direction,
    t.is_email_type, t.salesloft_type, a.lead_id, l.guid, l.owner_id, a.opportunity_id, a.owner_id, o.guid,
    o.first_name, o.last_name, c.first_name, c.last_name, m.first_name, m.last_name, a.note, a.occurred_at,
    a.created_at, a.updated_at, a.score, a.status, a.fields,
    l.first_name, l.last_name, l.email, l.deleted_at, a.account_id, ac.name, a.res_kind, a.res_id,
    r.guid, r.note, rt.display_name, r.status, a.pinned_at, a.tags, a.static_data
  FROM activities a
  JOIN activity_types t ON t.id = a.type_id
  LEFT JOIN leads l ON l.id = a.lead_id
  LEFT JOIN accounts ac ON ac.id = a.account_id
  LEFT JOIN activities r ON a.res_kind = 'crm_opportunity' AND r.id = a.res_id
  LEFT JOIN activity_types rt ON rt.id = r.type_id
  JOIN users o ON o.id = a.owner_id
  JOIN users c ON c.id = a.created_by
  JOIN users m ON m.id = a.modified_by";

fn activity_row(row: &Row) -> Result<ActivityView> {
    let name = |a: usize| -> Result<String> {
        Ok(crate::domain::join_name(
            &get::<String>(row, a)?,
            &get::<String>(row, a + 1)?,
        ))
    };
    let kind: String = get(row, 6)?;
    let res_kind: String = get(row, 35)?;
    let resource_kind = ResourceKind::parse(&res_kind)
        .ok_or_else(|| Error::Internal(format!("unknown resource kind '{res_kind}'")))?;
    // An opportunity is named by its note, or by its type when the note is empty.
    let opportunity_name = match (
        get::<Option<String>>(row, 38)?,
        get::<Option<String>>(row, 39)?,
    ) {
        (Some(note), _) if !note.is_empty() => Some(note),
        (_, type_name) => type_name,
    };
    Ok(ActivityView {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        type_id: get(row, 2)?,
        event_code: get(row, 3)?,
        type_name: get(row, 4)?,
        type_display_name: get(row, 5)?,
        type_kind: TypeKind::parse(&kind).unwrap_or(TypeKind::Custom),
        direction: get(row, 7)?,
        is_email_type: get(row, 8)?,
        salesloft_type: get(row, 9)?,
        lead_id: get(row, 10)?,
        lead_guid: get(row, 11)?,
        lead_owner_id: get(row, 12)?,
        opportunity_id: get(row, 13)?,
        owner_id: get(row, 14)?,
        owner_guid: get(row, 15)?,
        owner_name: name(16)?,
        created_by_name: name(18)?,
        modified_by_name: name(20)?,
        note: get(row, 22)?,
        occurred_at: get(row, 23)?,
        created_at: get(row, 24)?,
        updated_at: get(row, 25)?,
        score: get(row, 26)?,
        status: get(row, 27)?,
        fields: crate::domain::fields::FieldValues::from_map(&json::<BTreeMap<String, String>>(
            row, 28,
        )?),
        lead_first_name: get(row, 29)?,
        lead_last_name: get(row, 30)?,
        lead_email: get(row, 31)?,
        lead_deleted: get::<Option<i64>>(row, 32)?.is_some(),
        account_id: get(row, 33)?,
        account_name: get(row, 34)?,
        resource_kind,
        resource_id: get(row, 36)?,
        resource_guid: get(row, 37)?,
        opportunity_name,
        opportunity_status: get(row, 40)?,
        pinned_at: get(row, 41)?,
        tags: json(row, 42)?,
        static_data: json(row, 43)?,
    })
}

/// The WHERE clause and parameters of an activity list query (shared by the count and the page);
/// the same conditions, in the same order, as the SQLite backend's.
fn activity_filter(q: &ActivityQuery) -> (String, Params) {
    let mut args: Params = vec![Box::new(q.tenant_id)];
    let mut sql = String::from("a.tenant_id = $1");
    let cond =
        |sql: &mut String, args: &mut Params, text: &str, v: Box<dyn ToSql + Sync + Send>| {
            args.push(v);
            sql.push_str(&text.replace('?', &format!("${}", args.len())));
        };
    if let Some(lead) = q.lead_id {
        cond(&mut sql, &mut args, " AND a.lead_id = ?", Box::new(lead));
    }
    if let Some(opp) = q.opportunity_id {
        cond(
            &mut sql,
            &mut args,
            " AND a.opportunity_id = ?",
            Box::new(opp),
        );
    }
    match q.records {
        RecordKind::Any => {}
        RecordKind::Activities => cond(
            &mut sql,
            &mut args,
            " AND a.event_code < ?",
            Box::new(FIRST_OPPORTUNITY_CODE),
        ),
        RecordKind::Opportunities => cond(
            &mut sql,
            &mut args,
            " AND a.event_code >= ?",
            Box::new(FIRST_OPPORTUNITY_CODE),
        ),
    }
    match q.event_codes.as_slice() {
        [] => {}
        // One code: a plain equality, the shape SQLite's `IN (?)` has, for the same index use.
        [code] => cond(
            &mut sql,
            &mut args,
            " AND a.event_code = ?",
            Box::new(*code),
        ),
        codes => cond(
            &mut sql,
            &mut args,
            " AND a.event_code = ANY(?::bigint[])",
            Box::new(codes.to_vec()),
        ),
    }
    if q.match_nothing {
        sql.push_str(" AND 1 = 0");
    }
    if let Some(from) = q.updated_from {
        cond(
            &mut sql,
            &mut args,
            " AND a.updated_at >= ?",
            Box::new(from),
        );
    }
    if let Some(to) = q.updated_to {
        cond(&mut sql, &mut args, " AND a.updated_at <= ?", Box::new(to));
    }
    // Type: one plain alternative is `sl_type = ANY(…)` (an index range per type); per-resource
    // alternatives are OR-ed conjunctions.
    let texts = |v: &[String]| -> Box<dyn ToSql + Sync + Send> { Box::new(v.to_vec()) };
    match q.types.as_slice() {
        [] => {}
        [TypeFilter {
            resource: None,
            sl_types,
        }] => cond(
            &mut sql,
            &mut args,
            " AND a.sl_type = ANY(?::text[])",
            texts(sl_types),
        ),
        alternatives => {
            let mut parts = Vec::new();
            for alt in alternatives {
                args.push(texts(&alt.sl_types));
                let mut part = format!("a.sl_type = ANY(${}::text[])", args.len());
                if let Some(kind) = alt.resource {
                    args.push(Box::new(kind.as_str()));
                    part.push_str(&format!(" AND a.res_kind = ${}", args.len()));
                }
                parts.push(format!("({part})"));
            }
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        }
    }
    if !q.resource_kinds.is_empty() {
        let kinds: Vec<String> = q
            .resource_kinds
            .iter()
            .map(|k| k.as_str().to_string())
            .collect();
        cond(
            &mut sql,
            &mut args,
            " AND a.res_kind = ANY(?::text[])",
            Box::new(kinds),
        );
    }
    if !q.resources.is_empty() {
        let mut parts = Vec::new();
        for (kind, id) in &q.resources {
            args.push(Box::new(kind.as_str()));
            let k = args.len();
            args.push(Box::new(*id));
            parts.push(format!(
                "(a.res_kind = ${k} AND a.res_id = ${})",
                args.len()
            ));
        }
        sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
    }
    if !q.ids.is_empty() {
        let mut parts = Vec::new();
        for f in &q.ids {
            args.push(Box::new(f.id));
            let i = args.len();
            match &f.sl_type {
                Some(t) => {
                    args.push(Box::new(t.clone()));
                    parts.push(format!("(a.id = ${i} AND a.sl_type = ${})", args.len()));
                }
                None => parts.push(format!("a.id = ${i}")),
            }
        }
        sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
    }
    if !q.owner_ids.is_empty() {
        cond(
            &mut sql,
            &mut args,
            " AND a.owner_id = ANY(?::bigint[])",
            Box::new(q.owner_ids.clone()),
        );
    }
    match q.pinned {
        None => {}
        Some(true) => sql.push_str(" AND a.pinned_at IS NOT NULL"),
        Some(false) => sql.push_str(" AND a.pinned_at IS NULL"),
    }
    if let Some(owner) = q.visible_to_owner {
        args.push(Box::new(owner));
        // Each activity carries its lead's owner (migration 0005), so this is an index range.
        sql.push_str(&format!(" AND a.lead_owner_id = ${}", args.len()));
    }
    if let Some(from) = q.occurred_from {
        cond(
            &mut sql,
            &mut args,
            " AND a.occurred_at >= ?",
            Box::new(from),
        );
    }
    if let Some(to) = q.occurred_to {
        cond(&mut sql, &mut args, " AND a.occurred_at <= ?", Box::new(to));
    }
    (sql, args)
}

/// The ORDER BY clause for `q`, appending its parameters to `args`. Text keys compare bytewise
/// (`COLLATE "C"`) as SQLite's do; NULL placement is explicit, as in the SQLite backend.
fn activity_order(q: &ActivityQuery, args: &mut Params) -> String {
    let dir = if q.descending {
        "DESC NULLS LAST"
    } else {
        "ASC NULLS FIRST"
    };
    let id_dir = if q.descending { "DESC" } else { "ASC" };
    let key = match &q.sort {
        // NOT NULL keys: a NULLS clause changes nothing, but PostgreSQL only walks an index in
        // order for the index's own NULLS placement (DESC NULLS FIRST backwards), so naming
        // none lets a page be read from the index instead of sorting every matching row.
        ActivitySort::OccurredAt => return format!("a.occurred_at {id_dir}, a.id {id_dir}"),
        // updated_at is unique within a tenant (a unique index), so it is a total order alone;
        // an `id` tie-break would stop PostgreSQL from reading pages off (…, updated_at) indexes.
        ActivitySort::UpdatedAt => return format!("a.updated_at {id_dir}"),
        ActivitySort::EventCode => "a.event_code".to_string(),
        ActivitySort::Score => "a.score".to_string(),
        ActivitySort::Note => "a.note COLLATE \"C\"".to_string(),
        ActivitySort::Status => "a.status COLLATE \"C\"".to_string(),
        ActivitySort::CreatedByName => {
            "trim(c.first_name || ' ' || c.last_name) COLLATE \"C\"".to_string()
        }
        ActivitySort::Guid => "a.guid".to_string(),
        ActivitySort::Id => return format!("a.id {id_dir}"),
        ActivitySort::Field {
            schema_name,
            numeric,
        } => {
            args.push(Box::new(schema_name.replace('"', "")));
            let v = format!("(a.fields ->> ${}::text)", args.len());
            if *numeric {
                // SQLite's CAST(text AS REAL) yields 0 for text that is not a number; PostgreSQL's
                // cast would fail the query, so non-numbers are mapped to 0 explicitly.
                format!(
                    "(CASE WHEN {v} IS NULL THEN NULL \
                      WHEN {v} ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' \
                      THEN {v}::float8 ELSE 0 END)"
                )
            } else {
                format!("{v} COLLATE \"C\"")
            }
        }
    };
    format!("{key} {dir}, a.id {id_dir}")
}

/// The page query `list_activities` runs (exposed for EXPLAIN in tests and reports).
pub fn activity_page_sql(q: &ActivityQuery) -> (String, Params) {
    if let Some(types) = super::per_type_arms(q) {
        return per_type_page_sql(q, &types);
    }
    let (filter, mut args) = activity_filter(q);
    let order = activity_order(q, &mut args);
    args.push(Box::new(q.limit as i64));
    let limit = args.len();
    args.push(Box::new(q.offset.min(i64::MAX as u64) as i64));
    let offset = args.len();
    (
        format!(
            "{ACTIVITY_SELECT} WHERE {filter} ORDER BY {order} LIMIT ${limit} OFFSET ${offset}"
        ),
        args,
    )
}

/// A page of two or more types: per type, the first offset+limit matching ids read in order off
/// its (tenant, type, date) index (the arms share the filter's parameters); the page is then cut
/// from those few rows. `= ANY (ARRAY(…))` makes the ids an InitPlan probed through the primary
/// key; an `IN (…)` became a hash semi-join over a scan of the tenant's activities.
fn per_type_page_sql(q: &ActivityQuery, types: &[String]) -> (String, Params) {
    let (filter, mut args) = activity_filter(q);
    let order = activity_order(q, &mut args);
    let arm_limit = (q.offset.saturating_add(u64::from(q.limit))).min(i64::MAX as u64) as i64;
    args.push(Box::new(arm_limit));
    let arm_limit = args.len();
    let mut arms = Vec::new();
    for t in types {
        args.push(Box::new(t.clone()));
        arms.push(format!(
            "(SELECT a.id FROM activities a WHERE {filter} AND a.sl_type = ${} \
              ORDER BY {order} LIMIT ${arm_limit})",
            args.len()
        ));
    }
    args.push(Box::new(q.limit as i64));
    let limit = args.len();
    args.push(Box::new(q.offset.min(i64::MAX as u64) as i64));
    let offset = args.len();
    (
        format!(
            "{ACTIVITY_SELECT} WHERE a.tenant_id = $1 AND a.id = ANY (ARRAY({})) \
             ORDER BY {order} LIMIT ${limit} OFFSET ${offset}",
            arms.join(" UNION ALL ")
        ),
        args,
    )
}

/// The count statement `list_activities` runs for `q` (`None` when it counts nothing; exposed
/// for EXPLAIN in tests and reports).
pub fn activity_count_sql(q: &ActivityQuery) -> Option<(String, Params)> {
    let (filter, mut args) = activity_filter(q);
    match q.count {
        CountMode::None => None,
        CountMode::Exact => Some((
            format!("SELECT count(*) FROM activities a WHERE {filter}"),
            args,
        )),
        CountMode::Capped(cap) => {
            args.push(Box::new(cap.min(i64::MAX as u64) as i64));
            Some((
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM activities a WHERE {filter} LIMIT ${}) capped",
                    args.len()
                ),
                args,
            ))
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        // A pooled connection the server dropped fails once before the pool discards it; a
        // second try on a fresh connection tells whether the database itself is unreachable.
        for attempt in 0..2 {
            let c = self.client().await?;
            match c.simple_query("SELECT 1").await {
                Ok(_) => return Ok(()),
                Err(e) if attempt == 0 && e.is_closed() => continue,
                Err(e) => return Err(map_err(e)),
            }
        }
        Err(Error::Unavailable("the database does not answer".into()))
    }

    async fn create_tenant(
        &self,
        name: &str,
        admin: NewUser,
        types: Vec<NewActivityType>,
    ) -> Result<(Tenant, User)> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let now = now_micros();
        let guid = Uuid::now_v7();
        let row = query_one(
            &tx,
            "INSERT INTO tenants (guid, name, clock, created_at) VALUES ($1, $2, 0, $3) RETURNING id",
            &[&guid, &name, &now],
        )
        .await?;
        let tenant = Tenant {
            id: get(&row, 0)?,
            guid,
            name: name.to_string(),
        };
        let user_id = insert_user(&tx, tenant.id, &admin, now).await?;
        insert_types(&tx, tenant.id, &types, now).await?;
        let user = query_users(&tx, "u.id = $1", &[&user_id])
            .await?
            .pop()
            .ok_or_else(|| Error::Internal("created user vanished".into()))?;
        tx.commit().await.map_err(map_err)?;
        Ok((tenant, user.user))
    }

    async fn tenant_by_guid(&self, guid: Uuid) -> Result<Option<Tenant>> {
        let c = self.client().await?;
        query_opt(
            &c,
            "SELECT id, guid, name FROM tenants WHERE guid = $1",
            &[&guid],
        )
        .await?
        .map(|r| {
            Ok(Tenant {
                id: get(&r, 0)?,
                guid: get(&r, 1)?,
                name: get(&r, 2)?,
            })
        })
        .transpose()
    }

    async fn count_tenants(&self) -> Result<u64> {
        let c = self.client().await?;
        let row = query_one(&c, "SELECT count(*) FROM tenants", &[]).await?;
        Ok(get::<i64>(&row, 0)? as u64)
    }

    async fn create_user(&self, tenant_id: i64, user: NewUser) -> Result<User> {
        let c = self.client().await?;
        let id = insert_user(&c, tenant_id, &user, now_micros()).await?;
        query_users(&c, "u.id = $1", &[&id])
            .await?
            .pop()
            .map(|u| u.user)
            .ok_or_else(|| Error::Internal("created user vanished".into()))
    }

    async fn user_by_access_key(&self, digest: &[u8; 32]) -> Result<Option<UserCredentials>> {
        let c = self.client().await?;
        Ok(query_users(&c, "u.access_key_digest = $1", &[&&digest[..]])
            .await?
            .pop())
    }

    async fn user_by_api_key(&self, digest: &[u8; 32]) -> Result<Option<User>> {
        let c = self.client().await?;
        Ok(query_users(&c, "u.api_key_digest = $1", &[&&digest[..]])
            .await?
            .pop()
            .map(|u| u.user))
    }

    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>> {
        let c = self.client().await?;
        Ok(query_users(&c, "u.tenant_id = $1", &[&tenant_id])
            .await?
            .into_iter()
            .map(|u| u.user)
            .collect())
    }

    async fn user_by_email(&self, tenant_id: i64, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        let c = self.client().await?;
        Ok(query_users(
            &c,
            "u.tenant_id = $1 AND u.email_lc = $2",
            &[&tenant_id, &email],
        )
        .await?
        .pop()
        .map(|u| u.user))
    }

    async fn user_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<User>> {
        let c = self.client().await?;
        Ok(
            query_users(&c, "u.tenant_id = $1 AND u.guid = $2", &[&tenant_id, &guid])
                .await?
                .pop()
                .map(|u| u.user),
        )
    }

    async fn create_lead(&self, tenant_id: i64, lead: NewLead) -> Result<Lead> {
        let guid = lead.guid;
        {
            let c = self.client().await?;
            insert_leads(&c, tenant_id, std::slice::from_ref(&lead), now_micros()).await?;
        }
        self.lead_by_guid(tenant_id, guid)
            .await?
            .ok_or_else(|| Error::Internal("created lead vanished".into()))
    }

    async fn create_leads(&self, tenant_id: i64, leads: Vec<NewLead>) -> Result<Vec<i64>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let ids = insert_leads(&tx, tenant_id, &leads, now_micros()).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(ids)
    }

    async fn lead_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Lead>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id WHERE l.tenant_id = $1 AND l.guid = $2 AND l.deleted_at IS NULL"
        );
        query_opt(&c, &sql, &[&tenant_id, &guid])
            .await?
            .map(|r| lead_row(&r))
            .transpose()
    }

    async fn lead_by_key(&self, tenant_id: i64, key: LeadKey, value: &str) -> Result<Option<Lead>> {
        let (column, value) = match key {
            LeadKey::Email => ("l.email_lc", value.trim().to_lowercase()),
            LeadKey::Phone => ("l.phone", value.trim().to_string()),
            LeadKey::Mobile => ("l.mobile", value.trim().to_string()),
        };
        let c = self.client().await?;
        let sql = format!(
            "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id WHERE l.tenant_id = $1 AND {column} = $2 AND l.deleted_at IS NULL"
        );
        query_opt(&c, &sql, &[&tenant_id, &value])
            .await?
            .map(|r| lead_row(&r))
            .transpose()
    }

    async fn list_activity_types(&self, tenant_id: i64) -> Result<Vec<ActivityType>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = $1 ORDER BY event_code"
        );
        query(&c, &sql, &[&tenant_id])
            .await?
            .iter()
            .map(type_row)
            .collect()
    }

    async fn activity_type_by_code(
        &self,
        tenant_id: i64,
        code: i64,
    ) -> Result<Option<std::sync::Arc<ActivityType>>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = $1 AND event_code = $2"
        );
        query_opt(&c, &sql, &[&tenant_id, &code])
            .await?
            .map(|r| type_row(&r).map(std::sync::Arc::new))
            .transpose()
    }

    async fn create_activity_type(
        &self,
        tenant_id: i64,
        ty: NewActivityType,
    ) -> Result<ActivityType> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // The tenant's row lock makes "next free code" safe against other processes.
        query_opt(
            &tx,
            "SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE",
            &[&tenant_id],
        )
        .await?
        .ok_or_else(|| Error::NotFound("tenant does not exist".into()))?;
        let ids = insert_types(&tx, tenant_id, std::slice::from_ref(&ty), now_micros()).await?;
        let id = ids
            .first()
            .copied()
            .ok_or_else(|| Error::Internal("created type vanished".into()))?;
        let sql =
            format!("SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = $1 AND id = $2");
        let row = query_one(&tx, &sql, &[&tenant_id, &id]).await?;
        let created = type_row(&row)?;
        tx.commit().await.map_err(map_err)?;
        Ok(created)
    }

    async fn update_activity_type(&self, tenant_id: i64, ty: ActivityType) -> Result<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // The tenant's row first, as every timestamping write takes it: one lock order.
        query_opt(
            &tx,
            "SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE",
            &[&tenant_id],
        )
        .await?
        .ok_or_else(|| Error::NotFound("tenant does not exist".into()))?;
        let n = execute(
            &tx,
            "UPDATE activity_types SET name = $3, name_lc = $4, display_name = $5, score = $6,
                description = $7, direction = $8, is_email_type = $9, salesloft_type = $10,
                fields = $11, updated_at = $12
             WHERE tenant_id = $1 AND id = $2",
            &[
                &tenant_id,
                &ty.id,
                &ty.name,
                &ty.name.to_lowercase(),
                &ty.display_name,
                &ty.score,
                &ty.description,
                &ty.direction,
                &ty.is_email_type,
                &ty.salesloft_type,
                &Json(to_json(&ty.fields)?),
                &now_micros(),
            ],
        )
        .await?;
        if n == 0 {
            return Err(Error::NotFound(format!(
                "Activity type {} does not exist",
                ty.event_code
            )));
        }
        restamp_sl_type(&tx, tenant_id, ty.id, &ty.salesloft_type).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn insert_activities(
        &self,
        tenant_id: i64,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<i64>> {
        if activities.is_empty() {
            return Ok(Vec::new());
        }
        if activities
            .iter()
            .any(|a| a.lead_id.is_none() && a.account_id.is_none())
        {
            return Err(Error::InvalidInput(
                "An activity needs a lead or an account".into(),
            ));
        }
        let guids: Vec<Uuid> = activities.iter().map(|a| a.guid).collect();
        let type_ids: Vec<i64> = activities.iter().map(|a| a.type_id).collect();
        let lead_ids: Vec<Option<i64>> = activities.iter().map(|a| a.lead_id).collect();
        let account_ids: Vec<Option<i64>> = activities.iter().map(|a| a.account_id).collect();
        let opportunity_ids: Vec<Option<i64>> =
            activities.iter().map(|a| a.opportunity_id).collect();
        let owner_ids: Vec<i64> = activities.iter().map(|a| a.owner_id).collect();
        let created_by: Vec<i64> = activities.iter().map(|a| a.created_by).collect();
        let notes: Vec<&str> = activities.iter().map(|a| a.note.as_str()).collect();
        let occurred: Vec<i64> = activities.iter().map(|a| a.occurred_at).collect();
        let scores: Vec<i64> = activities.iter().map(|a| a.score).collect();
        let statuses: Vec<&str> = activities.iter().map(|a| a.status.as_str()).collect();
        let pinned: Vec<bool> = activities.iter().map(|a| a.pinned).collect();
        let fields: Vec<String> = activities
            .iter()
            .map(|a| to_json_text(&a.fields))
            .collect::<Result<_>>()?;
        let tags: Vec<String> = activities
            .iter()
            .map(|a| to_json_text(&a.tags))
            .collect::<Result<_>>()?;
        let static_data: Vec<String> = activities
            .iter()
            .map(|a| to_json_text(&a.static_data))
            .collect::<Result<_>>()?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let first = tick(&tx, tenant_id, activities.len() as i64).await?;
        // Row i gets timestamp first + i. The join with activity_types drops rows of unknown
        // types, which the count check below turns into a rollback of the whole batch. An
        // opportunity record is its own Salesloft resource: res_id 0 here, its id just below.
        let rows = query(
            &tx,
            "INSERT INTO activities (tenant_id, guid, type_id, event_code, lead_id, opportunity_id,
                owner_id, created_by, modified_by, note, occurred_at, created_at, updated_at, score,
                status, fields, account_id, pinned_at, tags, static_data, sl_type, res_kind, res_id,
                lead_owner_id)
             SELECT $1, v.guid, t.id, t.event_code, v.lead_id, v.opportunity_id, v.owner_id,
                    v.created_by, v.created_by, v.note, v.occurred_at, $2 + v.ord - 1,
                    $2 + v.ord - 1, v.score, v.status, v.fields::jsonb, v.account_id,
                    CASE WHEN v.pinned THEN $2 + v.ord - 1 END, v.tags::jsonb, v.static_data::json,
                    t.salesloft_type,
                    CASE WHEN t.kind = 'opportunity' OR v.opportunity_id IS NOT NULL THEN 'crm_opportunity'
                         WHEN v.account_id IS NOT NULL THEN 'account' ELSE 'person' END,
                    CASE WHEN t.kind = 'opportunity' THEN 0
                         WHEN v.opportunity_id IS NOT NULL THEN v.opportunity_id
                         WHEN v.account_id IS NOT NULL THEN v.account_id ELSE v.lead_id END,
                    (SELECT l.owner_id FROM leads l WHERE l.tenant_id = $1 AND l.id = v.lead_id)
               FROM unnest($3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
                           $8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::text[],
                           $13::text[], $14::bigint[], $15::boolean[], $16::text[], $17::text[])
                    WITH ORDINALITY AS v(guid, type_id, lead_id, opportunity_id, owner_id,
                                         created_by, note, occurred_at, score, status, fields,
                                         account_id, pinned, tags, static_data, ord)
               JOIN activity_types t ON t.tenant_id = $1 AND t.id = v.type_id
              ORDER BY v.ord
             RETURNING id, guid",
            &[
                &tenant_id,
                &first,
                &guids,
                &type_ids,
                &lead_ids,
                &opportunity_ids,
                &owner_ids,
                &created_by,
                &notes,
                &occurred,
                &scores,
                &statuses,
                &fields,
                &account_ids,
                &pinned,
                &tags,
                &static_data,
            ],
        )
        .await?;
        if rows.len() != activities.len() {
            return Err(Error::NotFound("Activity type does not exist".into()));
        }
        let ids = ids_in_order(&guids, &rows)?;
        execute(
            &tx,
            "UPDATE activities SET res_id = id
              WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND res_kind = 'crm_opportunity' AND res_id = 0",
            &[&tenant_id, &ids],
        )
        .await?;
        if activities
            .iter()
            .any(|a| a.score != 0 && a.lead_id.is_some())
        {
            execute(
                &tx,
                "UPDATE leads l SET score = l.score + s.delta
                   FROM (SELECT lead_id, sum(score)::bigint AS delta
                           FROM unnest($2::bigint[], $3::bigint[]) AS v(lead_id, score)
                          WHERE lead_id IS NOT NULL
                          GROUP BY lead_id) s
                  WHERE l.tenant_id = $1 AND l.id = s.lead_id AND s.delta <> 0",
                &[&tenant_id, &lead_ids, &scores],
            )
            .await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(ids)
    }

    async fn update_activity(&self, tenant_id: i64, u: ActivityUpdate) -> Result<()> {
        let fields = u.fields.as_ref().map(to_json).transpose()?.map(Json);
        let tags = u.tags.as_ref().map(to_json).transpose()?.map(Json);
        let static_data = u.static_data.as_ref().map(to_json).transpose()?.map(Json);
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let ts = tick(&tx, tenant_id, 1).await?;
        let n = execute(
            &tx,
            "UPDATE activities SET note = coalesce($3, note), owner_id = coalesce($4, owner_id),
                status = coalesce($5, status), fields = coalesce($6, fields), modified_by = $7,
                updated_at = $8, occurred_at = coalesce($9, occurred_at),
                pinned_at = CASE WHEN $10::boolean IS NULL THEN pinned_at
                                 WHEN $10 THEN coalesce(pinned_at, $8) END,
                tags = coalesce($11, tags), static_data = coalesce($12, static_data)
             WHERE tenant_id = $1 AND id = $2",
            &[
                &tenant_id,
                &u.id,
                &u.note,
                &u.owner_id,
                &u.status,
                &fields,
                &u.modified_by,
                &ts,
                &u.occurred_at,
                &u.pinned,
                &tags,
                &static_data,
            ],
        )
        .await?;
        if n == 0 {
            return Err(Error::NotFound("Activity does not exist".into()));
        }
        tx.commit().await.map_err(map_err)
    }

    async fn activity_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<ActivityView>> {
        let c = self.client().await?;
        let sql = format!("{ACTIVITY_SELECT} WHERE a.tenant_id = $1 AND a.guid = $2");
        query_opt(&c, &sql, &[&tenant_id, &guid])
            .await?
            .map(|r| activity_row(&r))
            .transpose()
    }

    async fn activity_by_id(&self, tenant_id: i64, id: i64) -> Result<Option<ActivityView>> {
        let c = self.client().await?;
        let sql = format!("{ACTIVITY_SELECT} WHERE a.tenant_id = $1 AND a.id = $2");
        query_opt(&c, &sql, &[&tenant_id, &id])
            .await?
            .map(|r| activity_row(&r))
            .transpose()
    }

    async fn delete_activity(&self, tenant_id: i64, id: i64) -> Result<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let row = query_one(
            &tx,
            "SELECT count(*) FROM activities WHERE tenant_id = $1 AND opportunity_id = $2",
            &[&tenant_id, &id],
        )
        .await?;
        let children: i64 = get(&row, 0)?;
        if children > 0 {
            return Err(Error::InvalidInput(format!(
                "This opportunity has {children} activities logged on it; delete them first"
            )));
        }
        let deleted = query_opt(
            &tx,
            "DELETE FROM activities WHERE tenant_id = $1 AND id = $2 RETURNING lead_id, score",
            &[&tenant_id, &id],
        )
        .await?
        .ok_or_else(|| Error::NotFound("Activity does not exist".into()))?;
        let (lead, score): (Option<i64>, i64) = (get(&deleted, 0)?, get(&deleted, 1)?);
        if let (Some(lead), true) = (lead, score != 0) {
            execute(
                &tx,
                "UPDATE leads SET score = score - $3 WHERE tenant_id = $1 AND id = $2",
                &[&tenant_id, &lead, &score],
            )
            .await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn list_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
             WHERE l.tenant_id = $1 AND l.deleted_at IS NULL
               AND ($2::bigint IS NULL OR l.owner_id = $2) AND l.id > $3
             ORDER BY l.id LIMIT $4"
        );
        query(
            &c,
            &sql,
            &[&tenant_id, &owner_id, &after_id, &(limit as i64)],
        )
        .await?
        .iter()
        .map(lead_row)
        .collect()
    }

    async fn delete_lead(&self, tenant_id: i64, lead_id: i64) -> Result<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // Lock the tenant's clock row first, as every other writer does (then the lead's row):
        // the same lock order everywhere, and no activity of the lead can be added meanwhile.
        tick(&tx, tenant_id, 0).await?;
        let n = execute(
            &tx,
            "UPDATE leads SET deleted_at = $3, updated_at = $3
              WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
            &[&tenant_id, &lead_id, &now_micros()],
        )
        .await?;
        if n == 0 {
            return Err(Error::NotFound("Lead does not exist".into()));
        }
        restamp_lead_activities(&tx, tenant_id, lead_id).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_account(&self, tenant_id: i64, account: NewAccount) -> Result<Account> {
        {
            let c = self.client().await?;
            execute(
                &c,
                "INSERT INTO accounts (tenant_id, guid, name, name_lc, domain, owner_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                &[
                    &tenant_id,
                    &account.guid,
                    &account.name,
                    &account.name.to_lowercase(),
                    &account.domain,
                    &account.owner_id,
                    &now_micros(),
                ],
            )
            .await
            .map_err(|e| match e {
                Error::Duplicate(_) => Error::Duplicate(format!(
                    "An account named '{}' already exists",
                    account.name
                )),
                other => other,
            })?;
        }
        self.account_by_guid(tenant_id, account.guid)
            .await?
            .ok_or_else(|| Error::Internal("created account vanished".into()))
    }

    async fn account_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Account>> {
        let c = self.client().await?;
        let sql = format!("{ACCOUNT_SELECT} WHERE ac.tenant_id = $1 AND ac.guid = $2");
        query_opt(&c, &sql, &[&tenant_id, &guid])
            .await?
            .map(|r| account_row(&r))
            .transpose()
    }

    async fn list_accounts(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Account>> {
        let c = self.client().await?;
        let sql = format!(
            "{ACCOUNT_SELECT} WHERE ac.tenant_id = $1 AND ac.id > $2 ORDER BY ac.id LIMIT $3"
        );
        query(&c, &sql, &[&tenant_id, &after_id, &(limit as i64)])
            .await?
            .iter()
            .map(account_row)
            .collect()
    }

    async fn list_activities(&self, q: &ActivityQuery) -> Result<Page<ActivityView>> {
        let mut c = self.client().await?;
        // One snapshot for the count and the page, as SQLite's read transaction gives.
        let tx = c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(map_err)?;
        // Counting touches only `activities` (and `leads` for visibility), so the planner can
        // answer from an index; a cap bounds the work on huge tenants.
        let total: i64 = match activity_count_sql(q) {
            None => 0,
            Some((sql, args)) => get(&query_one(&tx, &sql, &refs(&args)).await?, 0)?,
        };
        let (page_sql, page_args) = activity_page_sql(q);
        let rows = query(&tx, &page_sql, &refs(&page_args))
            .await?
            .iter()
            .map(activity_row)
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await.map_err(map_err)?;
        Ok(Page {
            total: total as u64,
            rows,
        })
    }

    async fn spend_rate_budget(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        cost: u64,
    ) -> Result<Option<Decision>> {
        let window_us = window.as_micros().min(i64::MAX as u128) as i64;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // The advisory lock serialises spenders of one key across processes; the database's
        // clock is the one clock all processes agree on.
        let row = query_one(
            &tx,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0)),
                    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
            &[&key],
        )
        .await?;
        let now_us: i64 = get(&row, 1)?;
        execute(
            &tx,
            "DELETE FROM rate_spends WHERE key = $1 AND at_us <= $2",
            &[&key, &(now_us - window_us)],
        )
        .await?;
        let spent = query(
            &tx,
            "SELECT at_us, cost FROM rate_spends WHERE key = $1 ORDER BY at_us",
            &[&key],
        )
        .await?
        .iter()
        .map(|r| Ok((get::<i64>(r, 0)?, get::<i64>(r, 1)?.max(0) as u64)))
        .collect::<Result<Vec<_>>>()?;
        let decision = decide(&spent, now_us, window_us, limit, cost);
        if decision.allowed {
            execute(
                &tx,
                "INSERT INTO rate_spends (key, at_us, cost) VALUES ($1, $2, $3)",
                &[&key, &now_us, &(cost.min(i64::MAX as u64) as i64)],
            )
            .await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Some(decision))
    }
}
