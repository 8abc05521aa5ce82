//! `activity-hub import` and `activity-hub export`: records of one tenant to and from NDJSON or CSV
//! files, streaming, checked by the API's rules, resumable.
//!
//! An import reads its file in batches. Each batch of activities is checked and stored in one
//! transaction of its own connection (`bulk`); leads, accounts and types go through the store one
//! row at a time (they are few). A row that breaks a rule goes to the reject file with its line
//! number and the reason, and the import goes on. After each batch the state file records how far
//! the file is stored (line, byte offset, reject file length); a run that finds it carries on
//! from there. A batch stored whose state was not yet written (a kill between the two) is read
//! again and finds its rows already there: every row has a GUID (its own, or one derived from the
//! file and the line), and rows whose GUID the tenant already holds are skipped, never doubled.

pub mod bulk;
pub mod check;
pub mod rows;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Error;
use crate::store::Store;
use bulk::Bulk;
use check::{Directory, Prepared, Wanted};
pub use rows::{Format, Kind, Row};

/// The longest NDJSON line read; a longer one is rejected and skipped, so that memory stays
/// bounded whatever the file holds.
pub const MAX_LINE: usize = 4 << 20;
/// How many bytes of the file identify it (with its kind and tenant) in the state file.
const KEY_BYTES: u64 = 1 << 20;
/// Export page size.
const PAGE: i64 = 5000;

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    Lines,
    None,
}

pub struct ImportOptions {
    pub db: String,
    pub tenant: Option<Uuid>,
    pub kind: Kind,
    pub format: Option<Format>,
    pub file: PathBuf,
    pub rejects: Option<PathBuf>,
    pub state: Option<PathBuf>,
    /// Ignore a state file and read the file from its start (rows already stored are skipped).
    pub restart: bool,
    pub batch: usize,
    pub progress: ProgressMode,
    /// Drop the activity table's non-unique indexes for the load and build them after it (for
    /// an offline load: a server's reads on the table are slow meanwhile).
    pub defer_indexes: bool,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    pub imported: u64,
    /// Rows whose record the tenant already had (an earlier run): skipped.
    pub present: u64,
    pub rejected: u64,
}

/// What a finished import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    #[serde(flatten)]
    pub counts: Counts,
    pub lines: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// The reject file, when a row was rejected.
    pub rejects: Option<String>,
    pub resumed_at_line: u64,
}

/// How far an import got, written after each stored batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct State {
    file_key: String,
    tenant: Uuid,
    kind: Kind,
    format: Format,
    /// Lines (NDJSON) or CSV lines read up to `offset`.
    line: u64,
    offset: u64,
    rejects_len: u64,
    #[serde(flatten)]
    counts: Counts,
    /// Indexes dropped for the load (`--defer-indexes`), with the statements that build them:
    /// kept here so that an interrupted load still builds them when it is resumed.
    #[serde(default)]
    deferred_indexes: Vec<(String, String)>,
    /// Foreign keys of the activity table dropped for the load on PostgreSQL (`--defer-indexes`),
    /// with their definitions: added back and checked in one pass each when the load ends, or
    /// when an interrupted load is resumed and ends.
    #[serde(default)]
    deferred_foreign_keys: Vec<(String, String)>,
}

impl State {
    fn load(path: &Path) -> Result<Option<State>, String> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                format!(
                    "the state file {} is damaged ({e}); remove it or pass --restart",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "cannot read the state file {}: {e}",
                path.display()
            )),
        }
    }

    /// Writes the state durably: a new file synced, then renamed over the old one.
    fn save(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension("tmp");
        let fail =
            |e: std::io::Error| format!("cannot write the state file {}: {e}", path.display());
        let mut f = File::create(&tmp).map_err(fail)?;
        f.write_all(json!(self).to_string().as_bytes())
            .map_err(fail)?;
        f.sync_all().map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)
    }
}

/// The identity of a file's content: a digest of its first MiB and its kind.
fn file_key(file: &mut File) -> Result<String, String> {
    let mut head = Vec::new();
    (&mut *file)
        .take(KEY_BYTES)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    Ok(hex::encode(&Sha256::digest(&head)[..16]))
}

/// One row read from the file.
struct Item {
    line: u64,
    /// Byte offset just past the row.
    end: u64,
    /// The row as written, for the reject file.
    raw: serde_json::Value,
    parsed: Result<Row, String>,
}

/// A file read row by row, NDJSON or CSV, from a byte offset.
enum Source {
    Ndjson {
        reader: BufReader<File>,
        line: u64,
        offset: u64,
        buf: Vec<u8>,
    },
    Csv {
        reader: Box<csv::Reader<File>>,
        layout: rows::CsvLayout,
        record: csv::ByteRecord,
    },
}

impl Source {
    fn open(
        kind: Kind,
        format: Format,
        mut file: File,
        line: u64,
        offset: u64,
    ) -> Result<Source, String> {
        let io = |e: std::io::Error| format!("cannot read the file: {e}");
        match format {
            Format::Ndjson => {
                file.seek(SeekFrom::Start(offset)).map_err(io)?;
                Ok(Source::Ndjson {
                    reader: BufReader::with_capacity(1 << 20, file),
                    line,
                    offset,
                    buf: Vec::new(),
                })
            }
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .buffer_capacity(1 << 20)
                    .from_reader(file);
                let header = reader
                    .headers()
                    .map_err(|e| format!("cannot read the CSV header: {e}"))?
                    .clone();
                let names: Vec<&str> = header.iter().collect();
                let layout = rows::CsvLayout::new(kind, &names)?;
                if offset > 0 {
                    let mut pos = csv::Position::new();
                    pos.set_byte(offset).set_line(line + 1);
                    reader
                        .seek(pos)
                        .map_err(|e| format!("cannot resume the CSV file: {e}"))?;
                }
                Ok(Source::Csv {
                    reader: Box::new(reader),
                    layout,
                    record: csv::ByteRecord::new(),
                })
            }
        }
    }

    /// The next row, or `None` at the end of the file.
    fn next(&mut self, kind: Kind) -> Result<Option<Item>, String> {
        match self {
            Source::Ndjson {
                reader,
                line,
                offset,
                buf,
            } => loop {
                buf.clear();
                let n = reader
                    .by_ref()
                    .take(MAX_LINE as u64 + 1)
                    .read_until(b'\n', buf)
                    .map_err(|e| format!("cannot read the file: {e}"))?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                *offset += n as u64;
                if buf.last() != Some(&b'\n') && n > MAX_LINE {
                    // Skip the rest of the over-long line without holding it.
                    let mut skipped = 0u64;
                    loop {
                        let chunk = reader
                            .fill_buf()
                            .map_err(|e| format!("cannot read the file: {e}"))?;
                        if chunk.is_empty() {
                            break;
                        }
                        let (take, done) = match memchr::memchr(b'\n', chunk) {
                            Some(i) => (i + 1, true),
                            None => (chunk.len(), false),
                        };
                        reader.consume(take);
                        skipped += take as u64;
                        if done {
                            break;
                        }
                    }
                    *offset += skipped;
                    return Ok(Some(Item {
                        line: *line,
                        end: *offset,
                        raw: serde_json::Value::Null,
                        parsed: Err(format!("the line is longer than {MAX_LINE} bytes")),
                    }));
                }
                let text = trim_newline(buf);
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let raw = serde_json::Value::String(String::from_utf8_lossy(text).into_owned());
                return Ok(Some(Item {
                    line: *line,
                    end: *offset,
                    raw,
                    parsed: rows::parse_ndjson(kind, text),
                }));
            },
            Source::Csv {
                reader,
                layout,
                record,
            } => {
                let more = match reader.read_byte_record(record) {
                    Ok(more) => more,
                    Err(e) => {
                        // A malformed record (bad UTF-8 is read as bytes; this is I/O or a
                        // structural error): report it where it is and go on after it.
                        let pos = reader.position();
                        return Ok(Some(Item {
                            line: pos.line(),
                            end: pos.byte(),
                            raw: serde_json::Value::Null,
                            parsed: Err(format!("cannot read the CSV record: {e}")),
                        }));
                    }
                };
                if !more {
                    return Ok(None);
                }
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let end = reader.position().byte();
                let cells: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
                let (raw, parsed) = match cells {
                    Ok(cells) => (json!(cells), layout.parse(&cells)),
                    Err(_) => (
                        serde_json::Value::Null,
                        Err("the record is not UTF-8".to_string()),
                    ),
                };
                Ok(Some(Item {
                    line,
                    end,
                    raw,
                    parsed,
                }))
            }
        }
    }

    /// The line count up to the last row read (what a resume starts after).
    fn line(&self, last: &Item) -> u64 {
        match self {
            Source::Ndjson { line, .. } => *line,
            Source::Csv { .. } => last.line,
        }
    }
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// Progress on stderr: a bar on a terminal, a line every few seconds otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    last: Instant,
    started: Instant,
    start_offset: u64,
    total: u64,
}

impl Progress {
    fn new(mode: ProgressMode, total: u64, start_offset: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let (bar, lines) = match mode {
            ProgressMode::None => (false, false),
            ProgressMode::Bar => (true, false),
            ProgressMode::Lines => (false, true),
            ProgressMode::Auto => (terminal, !terminal),
        };
        let bar = bar.then(|| {
            let b = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
            ) {
                b.set_style(style);
            }
            b.set_position(start_offset);
            b
        });
        Progress {
            bar,
            lines,
            last: Instant::now(),
            started: Instant::now(),
            start_offset,
            total,
        }
    }

    fn update(&mut self, offset: u64, counts: &Counts, done_rows: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-6);
        let rate = done_rows as f64 / secs;
        let msg = format!(
            "{} imported, {} present, {} rejected, {:.0} rows/s",
            counts.imported, counts.present, counts.rejected, rate
        );
        if let Some(b) = &self.bar {
            b.set_position(offset);
            b.set_message(msg);
        } else if self.lines && self.last.elapsed() >= Duration::from_secs(2) {
            self.last = Instant::now();
            let pct = 100.0 * offset as f64 / self.total.max(1) as f64;
            let bytes_rate = (offset - self.start_offset) as f64 / secs;
            let eta = (self.total.saturating_sub(offset)) as f64 / bytes_rate.max(1.0);
            eprintln!(
                "import: {pct:.1}% of {} bytes, {msg}, eta {eta:.0} s",
                self.total
            );
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// The reject file: one JSON object per rejected row (`line`, `reason`, the row as written).
/// Created at the first reject, so that a clean import leaves no empty file behind.
struct Rejects {
    file: Option<File>,
    path: PathBuf,
    len: u64,
    pending: Vec<u8>,
}

impl Rejects {
    /// Rejects written after the last recorded batch (`keep` bytes) are written again by this
    /// run; a reject file of an earlier, finished run is emptied.
    fn open(path: &Path, keep: u64) -> Result<Rejects, String> {
        let mut r = Rejects {
            file: None,
            path: path.to_path_buf(),
            len: keep,
            pending: Vec::new(),
        };
        if keep > 0 || path.exists() {
            r.open_file()?;
        }
        Ok(r)
    }

    fn open_file(&mut self) -> Result<&mut File, String> {
        let path = self.path.clone();
        let fail = move |e: std::io::Error| {
            format!("cannot write the reject file {}: {e}", path.display())
        };
        if self.file.is_none() {
            let mut file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(&self.path)
                .map_err(&fail)?;
            file.set_len(self.len).map_err(&fail)?;
            file.seek(SeekFrom::Start(self.len)).map_err(&fail)?;
            self.file = Some(file);
        }
        self.file
            .as_mut()
            .ok_or_else(|| fail(std::io::Error::other("not open")))
    }

    fn add(&mut self, item_line: u64, reason: &str, raw: &serde_json::Value) {
        let line = json!({"line": item_line, "reason": reason, "row": raw});
        self.pending.extend_from_slice(line.to_string().as_bytes());
        self.pending.push(b'\n');
    }

    /// Writes the batch's rejects durably (before the batch commits).
    fn flush(&mut self) -> Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let fail = |e: std::io::Error| format!("cannot write the reject file: {e}");
        let pending = std::mem::take(&mut self.pending);
        let file = self.open_file()?;
        file.write_all(&pending).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        self.len += pending.len() as u64;
        Ok(())
    }
}

fn store_err(e: Error) -> String {
    match e {
        Error::Unavailable(f) => f.to_string(),
        other => other.to_string(),
    }
}

/// Whether a store error is a refusal of the row (it goes to the reject file) rather than a
/// failure of the store (the import stops).
fn row_error(e: &Error) -> bool {
    !matches!(e, Error::Internal(_) | Error::Unavailable(_))
}

/// Opens the store (applying pending migrations), the bulk connection, and the tenant's
/// directory of types and users.
async fn open(
    db: &str,
    tenant: Option<Uuid>,
) -> Result<(Arc<dyn Store>, Bulk, Directory, Uuid), String> {
    let store = crate::store::open(db).await.map_err(|e| match e {
        Error::InvalidInput(m) => m,
        other => store_err(other),
    })?;
    let bulk = Bulk::open(db).await?;
    let (tenant_id, tenant_guid) = bulk.tenant(tenant).await?;
    let types = store
        .list_activity_types(tenant_id)
        .await
        .map_err(store_err)?;
    let users = store.list_users(tenant_id).await.map_err(store_err)?;
    Ok((
        store,
        bulk,
        Directory::new(tenant_id, types, users),
        tenant_guid,
    ))
}

/// Imports a file; see the module documentation.
pub async fn import(o: ImportOptions) -> Result<ImportReport, String> {
    let started = Instant::now();
    let format = o.format.unwrap_or_else(|| Format::from_path(&o.file));
    let mut file =
        File::open(&o.file).map_err(|e| format!("cannot open {}: {e}", o.file.display()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let key = file_key(&mut file)?;
    let rejects_path = o
        .rejects
        .clone()
        .unwrap_or_else(|| suffixed(&o.file, ".rejects.ndjson"));
    let state_path = o
        .state
        .clone()
        .unwrap_or_else(|| suffixed(&o.file, ".import-state"));
    let (store, mut bulk, mut dir, tenant) = open(&o.db, o.tenant).await?;
    let mut state = State {
        file_key: key.clone(),
        tenant,
        kind: o.kind,
        format,
        line: 0,
        offset: 0,
        rejects_len: 0,
        counts: Counts::default(),
        deferred_indexes: Vec::new(),
        deferred_foreign_keys: Vec::new(),
    };
    if !o.restart {
        if let Some(saved) = State::load(&state_path)? {
            if (&saved.file_key, saved.tenant, saved.kind, saved.format)
                != (&key, tenant, o.kind, format)
            {
                return Err(format!(
                    "the state file {} belongs to another import (another file, tenant, kind or format); \
                     remove it or pass --restart",
                    state_path.display()
                ));
            }
            state = saved;
        }
    }
    let resumed_at_line = state.line;
    if o.defer_indexes
        && o.kind == Kind::Activities
        && state.deferred_indexes.is_empty()
        && state.deferred_foreign_keys.is_empty()
    {
        state.deferred_indexes = bulk.secondary_indexes().await?;
        state.deferred_foreign_keys = bulk.foreign_keys().await?;
        state.save(&state_path)?;
    }
    bulk.drop_indexes(&state.deferred_indexes).await?;
    bulk.drop_foreign_keys(&state.deferred_foreign_keys).await?;
    let mut rejects = Rejects::open(&rejects_path, state.rejects_len)?;
    let mut source = Source::open(o.kind, format, file, state.line, state.offset)?;
    let mut progress = Progress::new(o.progress, total, state.offset);
    let mut carried: Option<Item> = None;
    let mut done_rows = 0u64;
    // Rows this run has imported, and how many more it imports before the activity table's
    // statistics are taken again (see `Bulk::analyze_growing`).
    let mut imported_here = 0u64;
    let mut analyze_at = 1u64;
    loop {
        // Read a batch. An activity naming an opportunity that this batch creates ends the
        // batch before it, so that the opportunity is stored (and found) first.
        let mut batch: Vec<Item> = Vec::with_capacity(o.batch.min(100_000));
        let mut guids: HashSet<Uuid> = HashSet::new();
        if let Some(item) = carried.take() {
            note_guid(&item, &key, &mut guids);
            batch.push(item);
        }
        while batch.len() < o.batch {
            let Some(item) = source.next(o.kind)? else {
                break;
            };
            if let Ok(Row::Activity(a)) = &item.parsed {
                let names_pending = check::guid("opportunity", a.opportunity.as_deref())
                    .ok()
                    .flatten()
                    .is_some_and(|g| guids.contains(&g));
                if names_pending {
                    carried = Some(item);
                    break;
                }
            }
            note_guid(&item, &key, &mut guids);
            batch.push(item);
        }
        let Some(last) = batch.last() else { break };
        let (end, line) = (last.end, source.line(last));
        // The line of the carried row is not stored yet: resume before it.
        let line = match &carried {
            Some(c) if matches!(source, Source::Ndjson { .. }) => c.line - 1,
            _ => line,
        };
        let counts = match o.kind {
            Kind::Activities => {
                activities_batch(&mut bulk, &dir, &key, batch, &mut rejects).await?
            }
            _ => {
                records_batch(
                    &*store,
                    &mut bulk,
                    &mut dir,
                    o.kind,
                    &key,
                    batch,
                    &mut rejects,
                )
                .await?
            }
        };
        done_rows += counts.imported + counts.present + counts.rejected;
        imported_here += counts.imported;
        if o.kind == Kind::Activities && imported_here >= analyze_at {
            bulk.analyze_growing().await?;
            analyze_at = imported_here * 2;
        }
        state.counts.imported += counts.imported;
        state.counts.present += counts.present;
        state.counts.rejected += counts.rejected;
        state.line = line;
        state.offset = end;
        state.rejects_len = rejects.len;
        state.save(&state_path)?;
        progress.update(end, &state.counts, done_rows);
    }
    progress.finish();
    if !state.deferred_indexes.is_empty() {
        let started = Instant::now();
        bulk.create_indexes(&state.deferred_indexes).await?;
        tracing::info!(
            indexes = state.deferred_indexes.len(),
            seconds = started.elapsed().as_secs_f64(),
            "indexes built"
        );
    }
    if !state.deferred_foreign_keys.is_empty() {
        let started = Instant::now();
        bulk.restore_foreign_keys(&state.deferred_foreign_keys)
            .await?;
        tracing::info!(
            foreign_keys = state.deferred_foreign_keys.len(),
            seconds = started.elapsed().as_secs_f64(),
            "foreign keys added back and checked"
        );
    }
    if state.counts.imported > 0 {
        bulk.analyze().await?;
    }
    // Finished: the next run of this file starts over (and finds every row present).
    let _ = std::fs::remove_file(&state_path);
    let seconds = started.elapsed().as_secs_f64();
    Ok(ImportReport {
        rows_per_second: done_rows as f64 / seconds.max(1e-6),
        counts: state.counts,
        lines: state.line,
        seconds,
        rejects: rejects
            .file
            .is_some()
            .then(|| rejects_path.display().to_string()),
        resumed_at_line,
    })
}

fn note_guid(item: &Item, key: &str, guids: &mut HashSet<Uuid>) {
    if let Ok(Row::Activity(a)) = &item.parsed {
        match check::guid("guid", a.guid.as_deref()) {
            Ok(Some(g)) => guids.insert(g),
            Ok(None) => guids.insert(check::derived_guid(key, item.line)),
            Err(_) => false,
        };
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// The GUID a row is stored under: its own, or one derived from the file and line.
fn row_guid(given: Option<&str>, key: &str, line: u64) -> Result<Uuid, String> {
    Ok(check::guid("guid", given)?.unwrap_or_else(|| check::derived_guid(key, line)))
}

/// Checks and stores one batch of activities in one transaction.
async fn activities_batch(
    bulk: &mut Bulk,
    dir: &Directory,
    key: &str,
    batch: Vec<Item>,
    rejects: &mut Rejects,
) -> Result<Counts, String> {
    let mut wanted = Wanted::default();
    for item in &batch {
        if let Ok(Row::Activity(a)) = &item.parsed {
            wanted.add(a);
        }
    }
    wanted.dedup();
    bulk.begin(dir.tenant_id).await?;
    let result: Result<Counts, String> = async {
        let resolved = bulk.resolve(dir.tenant_id, &wanted).await?;
        let mut counts = Counts::default();
        let mut ready: Vec<Prepared> = Vec::with_capacity(batch.len());
        for item in &batch {
            let checked = match &item.parsed {
                Ok(Row::Activity(a)) => row_guid(a.guid.as_deref(), key, item.line)
                    .and_then(|g| check::activity(a, g, dir, &resolved)),
                Ok(_) => Err("not an activity row".to_string()),
                Err(e) => Err(e.clone()),
            };
            match checked {
                Ok(p) => ready.push(p),
                Err(reason) => {
                    counts.rejected += 1;
                    rejects.add(item.line, &reason, &item.raw);
                }
            }
        }
        let done = bulk.insert(dir.tenant_id, &ready).await?;
        counts.imported = done.inserted;
        counts.present = done.present;
        rejects.flush()?;
        Ok(counts)
    }
    .await;
    match result {
        Ok(counts) => {
            bulk.commit().await?;
            Ok(counts)
        }
        Err(e) => {
            bulk.rollback().await;
            Err(e)
        }
    }
}

/// Checks and stores leads, accounts or types one by one through the store.
async fn records_batch(
    store: &dyn Store,
    bulk: &mut Bulk,
    dir: &mut Directory,
    kind: Kind,
    key: &str,
    batch: Vec<Item>,
    rejects: &mut Rejects,
) -> Result<Counts, String> {
    let tenant_id = dir.tenant_id;
    let mut counts = Counts::default();
    for item in batch {
        let outcome: Result<bool, String> = match (&item.parsed, kind) {
            (Err(e), _) => Err(e.clone()),
            (Ok(Row::Lead(row)), Kind::Leads) => {
                match row_guid(row.guid.as_deref(), key, item.line).and_then(|g| check::lead(row, g, dir)) {
                    Err(e) => Err(e),
                    Ok((lead, deleted)) => {
                        if bulk.lead_exists(tenant_id, lead.guid).await? {
                            Ok(false)
                        } else {
                            match store.create_lead(tenant_id, lead).await {
                                Ok(created) => {
                                    if deleted {
                                        store.delete_lead(tenant_id, created.id).await.map_err(store_err)?;
                                    }
                                    Ok(true)
                                }
                                Err(e) if row_error(&e) => Err(check::reason(e)),
                                Err(e) => return Err(store_err(e)),
                            }
                        }
                    }
                }
            }
            (Ok(Row::Account(row)), Kind::Accounts) => {
                match row_guid(row.guid.as_deref(), key, item.line).and_then(|g| check::account(row, g, dir)) {
                    Err(e) => Err(e),
                    Ok(account) => {
                        if store.account_by_guid(tenant_id, account.guid).await.map_err(store_err)?.is_some() {
                            Ok(false)
                        } else {
                            match store.create_account(tenant_id, account).await {
                                Ok(_) => Ok(true),
                                Err(e) if row_error(&e) => Err(check::reason(e)),
                                Err(e) => return Err(store_err(e)),
                            }
                        }
                    }
                }
            }
            (Ok(Row::Type(row)), Kind::Types) => match check::activity_type(row) {
                Err(e) => Err(e),
                Ok(ty) => match ty.event_code.and_then(|c| dir.type_by_code(c)) {
                    Some(stored) if check::same_type(stored, &ty) => Ok(false),
                    Some(stored) => Err(format!(
                        "'event_code': type {} is already '{}' with another definition",
                        stored.event_code, stored.name
                    )),
                    None if ty.kind == crate::domain::TypeKind::System => Err(format!(
                        "'kind': system types are built into every tenant; this tenant has no system type {}",
                        ty.event_code.map(|c| c.to_string()).unwrap_or_else(|| "without a code".into())
                    )),
                    None => match store.create_activity_type(tenant_id, ty).await {
                        Ok(created) => {
                            dir.add_type(created);
                            Ok(true)
                        }
                        Err(e) if row_error(&e) => Err(check::reason(e)),
                        Err(e) => return Err(store_err(e)),
                    },
                },
            },
            _ => Err(format!("not a row of {}", kind.as_str())),
        };
        match outcome {
            Ok(true) => counts.imported += 1,
            Ok(false) => counts.present += 1,
            Err(reason) => {
                counts.rejected += 1;
                rejects.add(item.line, &reason, &item.raw);
            }
        }
    }
    rejects.flush()?;
    Ok(counts)
}

pub struct ExportOptions {
    pub db: String,
    pub tenant: Option<Uuid>,
    pub kind: Kind,
    pub format: Option<Format>,
    pub file: PathBuf,
    pub progress: ProgressMode,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// A file being written row by row, NDJSON or CSV.
enum Sink {
    Ndjson(std::io::BufWriter<File>),
    Csv(Box<csv::Writer<File>>),
}

impl Sink {
    fn write(&mut self, kind: Kind, row: &Row) -> Result<(), String> {
        let fail = |e: String| format!("cannot write the export: {e}");
        match self {
            Sink::Ndjson(w) => {
                serde_json::to_writer(&mut *w, &rows::to_json(row))
                    .map_err(|e| fail(e.to_string()))?;
                w.write_all(b"\n").map_err(|e| fail(e.to_string()))
            }
            Sink::Csv(w) => w
                .write_record(rows::to_csv(kind, row))
                .map_err(|e| fail(e.to_string())),
        }
    }

    fn finish(self) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("cannot write the export: {e}");
        let file = match self {
            Sink::Ndjson(w) => w.into_inner().map_err(|e| fail(e.into_error()))?,
            Sink::Csv(w) => w.into_inner().map_err(|e| fail(e.into_error()))?,
        };
        file.sync_all().map_err(fail)
    }
}

/// Exports one kind of the tenant's records, in an order that imports again to the same store:
/// types by event code, leads and accounts by id, activities by id (an opportunity before the
/// activities logged on it). Written to `FILE.partial`, renamed to `FILE` when complete.
pub async fn export(o: ExportOptions) -> Result<ExportReport, String> {
    let started = Instant::now();
    if o.file.exists() {
        return Err(format!(
            "{} already exists; export writes a new file",
            o.file.display()
        ));
    }
    let format = o.format.unwrap_or_else(|| Format::from_path(&o.file));
    let (store, mut bulk, dir, _) = open(&o.db, o.tenant).await?;
    let partial = suffixed(&o.file, ".partial");
    let f =
        File::create(&partial).map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let mut sink = match format {
        Format::Ndjson => Sink::Ndjson(std::io::BufWriter::with_capacity(1 << 20, f)),
        Format::Csv => {
            let mut w = csv::WriterBuilder::new().from_writer(f);
            w.write_record(rows::csv_header(o.kind))
                .map_err(|e| format!("cannot write the export: {e}"))?;
            Sink::Csv(Box::new(w))
        }
    };
    let tenant_id = dir.tenant_id;
    let mut n = 0u64;
    let mut progress = Progress::new(o.progress, 0, 0);
    match o.kind {
        Kind::Types => {
            let mut types = store
                .list_activity_types(tenant_id)
                .await
                .map_err(store_err)?;
            types.sort_by_key(|t| t.event_code);
            for t in &types {
                sink.write(o.kind, &Row::Type(check::type_row(t)))?;
                n += 1;
            }
        }
        Kind::Accounts => {
            let mut after = 0;
            loop {
                let page = store
                    .list_accounts(tenant_id, after, PAGE as u32)
                    .await
                    .map_err(store_err)?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for a in &page {
                    let row = rows::AccountRow {
                        guid: Some(a.guid.to_string()),
                        name: Some(a.name.clone()),
                        domain: a.domain.clone(),
                        owner: dir.email_of(a.owner_id).map(str::to_string),
                    };
                    sink.write(o.kind, &Row::Account(row))?;
                    n += 1;
                }
            }
        }
        Kind::Leads => {
            let mut after = 0;
            loop {
                let page = bulk.lead_page(tenant_id, after, PAGE).await?;
                let Some((last, _)) = page.last() else { break };
                after = *last;
                for (_, row) in page {
                    sink.write(o.kind, &Row::Lead(row))?;
                    n += 1;
                }
                progress.update(
                    0,
                    &Counts {
                        imported: n,
                        ..Counts::default()
                    },
                    n,
                );
            }
        }
        Kind::Activities => {
            let mut after = 0;
            loop {
                let page = bulk.activity_page(tenant_id, after, PAGE).await?;
                let Some((last, _)) = page.last() else { break };
                after = *last;
                for (_, row) in page {
                    sink.write(o.kind, &Row::Activity(row))?;
                    n += 1;
                }
                progress.update(
                    0,
                    &Counts {
                        imported: n,
                        ..Counts::default()
                    },
                    n,
                );
            }
        }
    }
    progress.finish();
    sink.finish()?;
    std::fs::rename(&partial, &o.file)
        .map_err(|e| format!("cannot rename {}: {e}", partial.display()))?;
    let bytes = std::fs::metadata(&o.file).map(|m| m.len()).unwrap_or(0);
    Ok(ExportReport {
        path: o.file.display().to_string(),
        rows: n,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
