//! Build script: turns on `cfg(pg_tests)` when `ACTIVITY_HUB_TEST_PG` names a PostgreSQL server at
//! build time, so that the PostgreSQL-only tests run then and are reported as ignored (with the
//! reason) otherwise. The product itself does not look at this cfg; see tests/common/pg.rs.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg_tests)");
    println!("cargo::rerun-if-env-changed=ACTIVITY_HUB_TEST_PG");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("ACTIVITY_HUB_TEST_PG").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=pg_tests");
    }
}
