//! `activity-hub backup`: a consistent copy of a SQLite store, taken while a server keeps serving.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// What a finished backup reports.
#[derive(Debug)]
pub struct BackupReport {
    /// Bytes of the copy.
    pub bytes: u64,
    /// Activities in the copy (live and soft-deleted rows alike).
    pub activities: i64,
}

/// Copies the store at `source` into a new file at `dest` with `VACUUM INTO`: one read
/// transaction, so the copy is the store as of one commit, taken without stopping the writer (WAL
/// readers do not block it) and compacted. The copy is then checked with `PRAGMA
/// integrity_check`. `dest` must not exist: a backup never overwrites a file.
pub fn backup(source: &Path, dest: &Path) -> Result<BackupReport, String> {
    if !source.exists() {
        return Err(format!("{} does not exist", source.display()));
    }
    if dest.exists() {
        return Err(format!(
            "{} exists; a backup is written to a new file",
            dest.display()
        ));
    }
    let dest_text = dest
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", dest.display()))?;
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(|e| e.to_string())?;
    let is_store: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'activities')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    if !is_store {
        return Err(format!(
            "{} is not an activity-hub store (it has no activities table)",
            source.display()
        ));
    }
    conn.execute("VACUUM INTO ?1", [dest_text])
        .map_err(|e| format!("the copy to {} failed: {e}", dest.display()))?;
    drop(conn);
    verify(dest).inspect_err(|_| {
        // A copy that fails its check must not be mistaken for a backup.
        let _ = std::fs::remove_file(dest);
    })
}

/// Opens the copy on its own and checks it page by page.
fn verify(dest: &Path) -> Result<BackupReport, String> {
    let copy = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("cannot open the copy {}: {e}", dest.display()))?;
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("cannot check the copy: {e}"))?;
    if check != "ok" {
        return Err(format!("the copy failed its integrity check: {check}"));
    }
    let activities: i64 = copy
        .query_row("SELECT count(*) FROM activities", [], |r| r.get(0))
        .map_err(|e| format!("cannot count the copy's activities: {e}"))?;
    let bytes = std::fs::metadata(dest)
        .map_err(|e| format!("cannot stat the copy: {e}"))?
        .len();
    Ok(BackupReport { bytes, activities })
}
