//! Build script: turns on `cfg(pg_tests)` when `ACTIVITY_HUB_TEST_PG` names a PostgreSQL server at
//! build time, so that the PostgreSQL-only tests run then and are reported as ignored (with the
//! reason) otherwise (see tests/common/pg.rs); and `cfg(root_tests)` when the build runs as root,
//! which the tests that mount a file system need (tests/disk_full.rs). The product itself looks
//! at neither.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg_tests)");
    println!("cargo::rerun-if-env-changed=ACTIVITY_HUB_TEST_PG");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("ACTIVITY_HUB_TEST_PG").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=pg_tests");
    }
    println!("cargo::rustc-check-cfg=cfg(root_tests)");
    if running_as_root() {
        println!("cargo::rustc-cfg=root_tests");
    }
}

/// Whether this process's effective user is root, from `/proc/self/status` (Linux); elsewhere
/// the answer is no, and the root-only tests are reported ignored.
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}
