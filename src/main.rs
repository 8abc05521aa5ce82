//! The `activity-hub` command line: `serve`, `tenant create`, `user create`, `backup`, `import`,
//! `export`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::json;

use activity_hub::app::{self, AppState};
use activity_hub::auth::IssuedKeys;
use activity_hub::domain::{Role, User};
use activity_hub::service::{Retention, Service};
use activity_hub::telemetry::{self, LogFormat};
use activity_hub::transfer::{self, Format, Kind, ProgressMode};
use activity_hub::{demo, store};

/// mimalloc instead of glibc malloc: rows, strings and response buffers are allocated on one thread
/// and freed on another at a high rate (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEFAULT_DB: &str = "sqlite://activity-hub.db";

#[derive(Parser)]
#[command(
    name = "activity-hub",
    version,
    about = "A CRM activity service speaking the LeadSquared and Salesloft APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How often expired change records and deleted records are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Database URL: sqlite://PATH.
        #[arg(long, env = "ACTIVITY_HUB_DB", default_value = DEFAULT_DB)]
        db: String,
        /// Address to listen on (port 0 picks a free port; the chosen address is printed).
        #[arg(long, env = "ACTIVITY_HUB_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Fill an empty database with a demo tenant and print its credentials.
        #[arg(long)]
        demo: bool,
        /// Switch the rate budgets off: LeadSquared's, Salesloft's and the native API's (load tests,
        /// emulating a higher plan). The failed-login guard stays on.
        #[arg(long)]
        no_rate_limit: bool,
        /// Keep rate-limit budgets in this Redis (redis://HOST:PORT), shared by every process
        /// using it. Default: in the database when it is PostgreSQL, else in memory.
        #[arg(long, env = "ACTIVITY_HUB_REDIS")]
        redis: Option<String>,
        /// Log lines on stderr as text or as one JSON object per line.
        #[arg(
            long,
            env = "ACTIVITY_HUB_LOG_FORMAT",
            value_enum,
            default_value = "text"
        )]
        log_format: LogFormat,
        /// Seconds a connection may take to send a complete request head once it is accepted or
        /// answered: closes idle keep-alive connections and trickled heads.
        #[arg(long, env = "ACTIVITY_HUB_HEAD_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..), default_value_t = app::Limits::default().head_timeout.as_secs())]
        head_timeout: u64,
        /// Seconds a request body may take to arrive whole.
        #[arg(long, env = "ACTIVITY_HUB_BODY_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..), default_value_t = app::Limits::default().body_timeout.as_secs())]
        body_timeout: u64,
        /// Seconds a response write may stay blocked by a client that does not read; then the
        /// connection is closed.
        #[arg(long, env = "ACTIVITY_HUB_WRITE_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..), default_value_t = app::Limits::default().write_timeout.as_secs())]
        write_timeout: u64,
        /// Connections served at once; more are answered 503 and closed.
        #[arg(long, env = "ACTIVITY_HUB_MAX_CONNECTIONS", default_value_t = app::Limits::default().max_connections)]
        max_connections: usize,
        /// Request-body bytes buffered at once across all connections; past it bodies get 503.
        #[arg(long, env = "ACTIVITY_HUB_BODY_BUDGET", default_value_t = app::Limits::default().body_budget)]
        body_budget: usize,
        /// SQLite: writes that may wait for the writer thread; past it a write is answered 503.
        #[arg(long, env = "ACTIVITY_HUB_WRITE_QUEUE", value_parser = clap::value_parser!(u64).range(1..=65536), default_value_t = store::sqlite::Bounds::default().writes as u64)]
        write_queue: u64,
        /// SQLite: reads too long to run inline that may wait for a reader thread; past it 503.
        #[arg(long, env = "ACTIVITY_HUB_READ_QUEUE", value_parser = clap::value_parser!(u64).range(1..=65536), default_value_t = store::sqlite::Bounds::default().reads as u64)]
        read_queue: u64,
        /// SQLite: MiB of page cache for each reading connection (six reader threads and one per
        /// async worker); it fills with the pages reads touch. The writer keeps 32 MiB (256 MiB
        /// past 1 GiB of database).
        #[arg(long, env = "ACTIVITY_HUB_READ_CACHE_MIB", value_parser = clap::value_parser!(u64).range(1..=65536), default_value_t = (store::sqlite::Bounds::default().read_cache_kib / 1024) as u64)]
        read_cache_mib: u64,
        /// Days an activity's change records are kept; 0 keeps them forever.
        #[arg(long, env = "ACTIVITY_HUB_HISTORY_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(0..=36_500))]
        history_retention_days: u32,
        /// Days a deleted activity or lead can be restored; then it is purged for good.
        #[arg(long, env = "ACTIVITY_HUB_RESTORE_WINDOW_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=36_500))]
        restore_window_days: u32,
        /// Webhooks: milliseconds between looks at the outbox when nothing was due.
        #[arg(long, hide = true, default_value_t = 250)]
        webhook_poll_ms: u64,
        /// Webhooks: milliseconds one delivery attempt may take.
        #[arg(long, hide = true, default_value_t = 10_000)]
        webhook_timeout_ms: u64,
        /// Webhooks: milliseconds before the first retry (doubled after each further failure).
        #[arg(long, hide = true, default_value_t = 5_000)]
        webhook_retry_base_ms: u64,
        /// Webhooks: longest wait between two attempts, in milliseconds.
        #[arg(long, hide = true, default_value_t = 3_600_000)]
        webhook_retry_max_delay_ms: u64,
        /// Webhooks: milliseconds after the first attempt past which a delivery is failed.
        #[arg(long, hide = true, default_value_t = 86_400_000)]
        webhook_retry_for_ms: u64,
        /// Hours an `Idempotency-Key` and its answer are kept (a fraction such as 0.5 is allowed);
        /// expired keys are pruned in the background and may then be used again.
        #[arg(long, env = "ACTIVITY_HUB_IDEMPOTENCY_TTL_HOURS", value_parser = idempotency_ttl_hours, default_value = "24")]
        idempotency_ttl_hours: Duration,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Copy a SQLite store to a new file, consistently, while a server may keep serving it.
    /// (PostgreSQL stores are backed up with pg_dump; see the README.)
    Backup {
        #[arg(long, env = "ACTIVITY_HUB_DB", default_value = DEFAULT_DB)]
        db: String,
        /// The new file to write (it must not exist).
        path: std::path::PathBuf,
    },
    /// Import one tenant's activities, leads, types or accounts from an NDJSON or CSV file,
    /// checked by the API's rules; rejected rows go to a reject file and the import goes on.
    /// Resumable: run the same command again after an interruption.
    Import {
        #[arg(long, env = "ACTIVITY_HUB_DB", default_value = DEFAULT_DB)]
        db: String,
        /// The tenant's GUID; may be left out when the database holds one tenant.
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
        /// What the file holds.
        #[arg(long, value_enum, default_value = "activities")]
        kind: Kind,
        /// The file's format; by default CSV for a .csv file, else NDJSON.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Where rejected rows go (default: FILE.rejects.ndjson).
        #[arg(long)]
        rejects: Option<std::path::PathBuf>,
        /// Where the progress of an interrupted import is kept (default: FILE.import-state).
        #[arg(long)]
        state: Option<std::path::PathBuf>,
        /// Read the file from its start even when a state file says how far an earlier run got
        /// (rows already stored are still skipped, not doubled).
        #[arg(long)]
        restart: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        batch: u32,
        /// Progress on stderr: a bar on a terminal, plain lines otherwise (auto), or none.
        #[arg(long, value_enum, default_value = "auto")]
        progress: ProgressMode,
        /// Activities: drop the activity table's non-unique indexes for the load and build them
        /// once after it (much faster for big files). For an offline load: while it runs, a
        /// server's pages of activities are read without those indexes.
        #[arg(long)]
        defer_indexes: bool,
        /// The file to import.
        file: std::path::PathBuf,
    },
    /// Export one tenant's activities, leads, types or accounts to a new NDJSON or CSV file that
    /// `import` reads back.
    Export {
        #[arg(long, env = "ACTIVITY_HUB_DB", default_value = DEFAULT_DB)]
        db: String,
        /// The tenant's GUID; may be left out when the database holds one tenant.
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
        #[arg(long, value_enum, default_value = "activities")]
        kind: Kind,
        /// By default CSV for a .csv file, else NDJSON.
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[arg(long, value_enum, default_value = "auto")]
        progress: ProgressMode,
        /// The new file to write (it must not exist).
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and its first user (an Administrator); prints the user's keys once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, env = "ACTIVITY_HUB_DB", default_value = DEFAULT_DB)]
        db: String,
        /// Print one JSON object (the only output format; kept for the documented contract).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to a tenant; prints the user's keys once.
    Create {
        /// The tenant's id (a GUID, as `tenant create` printed it).
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        /// Administrator, Sales_Manager or Sales_User.
        #[arg(long, default_value = "Sales_User")]
        role: String,
        #[arg(long, env = "ACTIVITY_HUB_DB", default_value = DEFAULT_DB)]
        db: String,
        #[arg(long)]
        json: bool,
    },
}

fn keys_json(user: &User, keys: &IssuedKeys) -> serde_json::Value {
    json!({
        "tenant_id": user.tenant_guid,
        "user_id": user.guid,
        "access_key": keys.access_key,
        "secret_key": keys.secret_key,
        "api_key": keys.api_key,
    })
}

async fn open_service(db: &str) -> Result<Arc<Service>, String> {
    open_service_with_budgets(db, store::sqlite::Bounds::default(), Retention::default())
        .await
        .map(|(service, _)| service)
}

/// The service over the store `db` names, and where its rate budgets live (the store's shared
/// budgets when it keeps them, else memory).
async fn open_service_with_budgets(
    db: &str,
    bounds: store::sqlite::Bounds,
    retention: Retention,
) -> Result<(Arc<Service>, app::RateBackend), String> {
    // The store's message is the whole story ("cannot connect to postgres://…: reason"); the
    // error kind's own prefix would only add noise to the one line the user sees.
    let opened = store::open_with_bounds(db, bounds)
        .await
        .map_err(|e| match e {
            activity_hub::error::Error::Unavailable(fault) => fault.to_string(),
            activity_hub::error::Error::InvalidInput(msg) => msg,
            other => other.to_string(),
        })?;
    let budgets = app::RateBackend::kept_by(opened.budgets);
    Ok((
        Arc::new(Service::new(opened.store).with_retention(retention)),
        budgets,
    ))
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            db,
            bind,
            demo,
            no_rate_limit,
            redis,
            log_format: _,
            head_timeout,
            body_timeout,
            write_timeout,
            max_connections,
            body_budget,
            write_queue,
            read_queue,
            read_cache_mib,
            history_retention_days,
            restore_window_days,
            webhook_poll_ms,
            webhook_timeout_ms,
            webhook_retry_base_ms,
            webhook_retry_max_delay_ms,
            webhook_retry_for_ms,
            idempotency_ttl_hours,
        } => {
            let bounds = store::sqlite::Bounds {
                writes: usize::try_from(write_queue).unwrap_or(usize::MAX),
                reads: usize::try_from(read_queue).unwrap_or(usize::MAX),
                read_cache_kib: i64::try_from(read_cache_mib.saturating_mul(1024))
                    .unwrap_or(i64::MAX),
            };
            let retention = Retention::from_days(history_retention_days, restore_window_days);
            let (service, store_budgets) =
                open_service_with_budgets(&db, bounds, retention).await?;
            tokio::spawn(service.clone().purge_loop(PURGE_EVERY));
            let rate_backend = match &redis {
                Some(url) => app::RateBackend::redis(url).await?,
                None => store_budgets,
            };
            let demo_data = match demo {
                true => Some(
                    demo::ensure(&service)
                        .await
                        .map_err(|e| format!("cannot create demo data: {e}"))?,
                ),
                false => None,
            };
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            match demo_data {
                Some(Some(mut creds)) => {
                    creds.base_url = format!("http://{addr}");
                    println!("{creds}");
                }
                Some(None) => println!(
                    "The database already holds data, so no demo tenant was created (its keys were shown \
                     when it was made). Delete the database file to start over, or add a user with \
                     `activity-hub user create`."
                ),
                None => {}
            }
            println!("activity-hub listening on http://{addr}");
            let _ = std::io::stdout().flush();
            tracing::info!(%addr, db = %store::redact_url(&db), "serving");
            let webhooks = activity_hub::events::dispatch::Config {
                poll: Duration::from_millis(webhook_poll_ms),
                timeout: Duration::from_millis(webhook_timeout_ms),
                retry_base: Duration::from_millis(webhook_retry_base_ms),
                retry_max_delay: Duration::from_millis(webhook_retry_max_delay_ms),
                retry_for: Duration::from_millis(webhook_retry_for_ms),
                ..Default::default()
            };
            let _dispatcher =
                activity_hub::events::dispatch::spawn(service.store().clone(), webhooks)?;
            let state = AppState::new(service.clone(), !no_rate_limit, rate_backend)
                .with_idempotency_ttl(idempotency_ttl_hours);
            let pruner = tokio::spawn(activity_hub::api::idempotency::prune_loop(
                service.store().clone(),
                idempotency_ttl_hours,
            ));
            let limits = app::Limits {
                head_timeout: Duration::from_secs(head_timeout),
                body_timeout: Duration::from_secs(body_timeout),
                write_timeout: Duration::from_secs(write_timeout),
                max_connections,
                body_budget,
            };
            let served = app::serve_with(listener, app::router(state), limits)
                .await
                .map_err(|e| format!("server failed: {e}"));
            pruner.abort();
            served
        }
        Command::Tenant {
            command:
                TenantCommand::Create {
                    name,
                    admin_email,
                    db,
                    json: _,
                },
        } => {
            let service = open_service(&db).await?;
            let (_, user, keys) = service
                .create_tenant(&name, &admin_email)
                .await
                .map_err(|e| format!("cannot create tenant: {e}"))?;
            println!("{}", keys_json(&user, &keys));
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    tenant,
                    email,
                    first_name,
                    last_name,
                    role,
                    db,
                    json: _,
                },
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                format!(
                    "invalid --role '{role}': expected Administrator, Sales_Manager or Sales_User"
                )
            })?;
            let service = open_service(&db).await?;
            let (user, keys) = service
                .create_user(&tenant, &email, &first_name, &last_name, role)
                .await
                .map_err(|e| format!("cannot create user: {e}"))?;
            println!("{}", keys_json(&user, &keys));
            Ok(())
        }
        Command::Backup { db, path } => {
            let Some(source) = store::sqlite_path(&db) else {
                return Err(format!(
                    "backup copies SQLite stores; for {} use pg_dump (see the README)",
                    store::redact_url(&db)
                ));
            };
            let (source, dest) = (std::path::PathBuf::from(source), path);
            let report = tokio::task::spawn_blocking(move || {
                store::sqlite::backup::backup(&source, &dest).map(|r| (r, dest))
            })
            .await
            .map_err(|e| format!("the backup stopped: {e}"))??;
            let (report, dest) = report;
            println!(
                "{}",
                json!({
                    "path": dest.display().to_string(),
                    "bytes": report.bytes,
                    "activities": report.activities,
                })
            );
            Ok(())
        }
        Command::Import {
            db,
            tenant,
            kind,
            format,
            rejects,
            state,
            restart,
            batch,
            progress,
            defer_indexes,
            file,
        } => {
            let report = transfer::import(transfer::ImportOptions {
                db,
                tenant,
                kind,
                format,
                file,
                rejects,
                state,
                restart,
                batch: batch as usize,
                progress,
                defer_indexes,
            })
            .await?;
            println!("{}", json!(report));
            Ok(())
        }
        Command::Export {
            db,
            tenant,
            kind,
            format,
            progress,
            file,
        } => {
            let report = transfer::export(transfer::ExportOptions {
                db,
                tenant,
                kind,
                format,
                file,
                progress,
            })
            .await?;
            println!("{}", json!(report));
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_logging(match &cli.command {
        Command::Serve { log_format, .. } => *log_format,
        _ => LogFormat::Text,
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("activity-hub: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("activity-hub: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `--idempotency-ttl-hours`: a positive number of hours (fractions allowed), at most ten years.
fn idempotency_ttl_hours(s: &str) -> Result<Duration, String> {
    let hours: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of hours"))?;
    if !(hours > 0.0 && hours <= 87_600.0) {
        return Err(format!(
            "must be more than 0 and at most 87600 hours, not {s}"
        ));
    }
    Ok(Duration::from_secs_f64(hours * 3600.0))
}
