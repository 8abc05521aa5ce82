//! `/openapi.json` against the routers: every path and method a `.route(…)` in src/ registers is
//! documented, every documented operation is registered, and each one, requested over HTTP, is
//! served by its route (not a fallback) with a status its operation documents.

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The Rust sources under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `name(` occurs in `expr` as a call of that very name (not `on_get(`, `budget(`).
fn calls(expr: &str, name: &str) -> bool {
    let needle = format!("{name}(");
    expr.match_indices(&needle).any(|(i, _)| {
        !expr[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// `(path, method)` of every `.route("…", …)` in `text` outside its tests; catch-alls (`any(…)`, the fallbacks
/// answering unknown paths) are left out.
fn routes_in(text: &str, out: &mut BTreeSet<(String, String)>) {
    // Unit-test modules (at the end of a file) build routers of their own.
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (start, _) in code.match_indices(".route(") {
        let rest = &code[start + ".route(".len()..];
        let rest = rest.trim_start();
        let Some(lit) = rest.strip_prefix('"') else {
            panic!(
                "a .route( whose path is not a literal: {}",
                &rest[..60.min(rest.len())]
            );
        };
        let end = lit.find('"').unwrap();
        let path = &lit[..end];
        // The handler expression: up to the parenthesis closing `.route(`.
        let mut depth = 1;
        let mut expr_end = end + 1;
        for (i, c) in lit[end + 1..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                expr_end = end + 1 + i;
                break;
            }
        }
        let expr = &lit[end + 1..expr_end];
        if calls(expr, "any") {
            continue;
        }
        let methods: Vec<&str> = METHODS.into_iter().filter(|m| calls(expr, m)).collect();
        assert!(!methods.is_empty(), "no method found for {path}: {expr}");
        for m in methods {
            out.insert((path.to_string(), m.to_string()));
        }
    }
}

/// Every route registered in the crate's API routers, read from its sources at test time. The
/// web UI's HTML pages (src/web) are not API operations and stay out of `/openapi.json`.
fn registered() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let web = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("web");
    files.retain(|f| !f.starts_with(&web));
    let mut out = BTreeSet::new();
    for f in files {
        routes_in(&std::fs::read_to_string(&f).unwrap(), &mut out);
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((path.clone(), m.to_string()));
            }
        }
    }
    out
}

#[test]
fn the_route_scan_reads_methods_and_skips_catch_alls() {
    let mut out = BTreeSet::new();
    routes_in(
        r#"Router::new()
            // .route("/commented", get(x))
            .route("/a", m(get(a::list).post(a::create)))
            .route(
                "/b/{id}",
                on_get(post(b::x)),
            )
            .route("/c/{*rest}", axum::routing::any(not_found))
            .route("/d", m(put(d::tags).delete(d::gone).patch(d::edit)))"#,
        &mut out,
    );
    let pairs: Vec<(&str, &str)> = out.iter().map(|(p, m)| (p.as_str(), m.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("/a", "get"),
            ("/a", "post"),
            ("/b/{id}", "post"),
            ("/d", "delete"),
            ("/d", "patch"),
            ("/d", "put"),
        ]
    );
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_served() {
    let app = App::start().await;
    let doc = app.raw("GET", "/openapi.json", None, None).await.json;
    let routes = registered();
    // The scan found the routers (not an empty or partial set that would agree with anything).
    for known in [
        ("/v2/ProspectActivity.svc/Create", "post"),
        ("/v2/activity_histories/{id}", "get"),
        ("/api/v1/activities/{id}", "patch"),
        ("/healthz", "get"),
    ] {
        assert!(
            routes.contains(&(known.0.to_string(), known.1.to_string())),
            "the scan of src/ missed {known:?}"
        );
    }
    let docs = documented(&doc);
    let undocumented: Vec<_> = routes.difference(&docs).collect();
    let unserved: Vec<_> = docs.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes with no operation in /openapi.json: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "operations in /openapi.json that no route serves: {unserved:?}"
    );

    // Each operation, requested without credentials, reaches its own route: not a fallback's
    // "no such endpoint", not a 405, and answered with a status the operation documents.
    for (path, method) in &docs {
        let concrete = path
            .replace("{id}", "call-1")
            .replace("{guid}", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        let body = (method != "get" && method != "delete").then(|| b"{}".to_vec());
        let r = app.raw(&method.to_uppercase(), &concrete, None, body).await;
        let fallback = r.status == StatusCode::NOT_FOUND
            && (r.json["error"]["message"] == json!("No such endpoint")
                || r.json["ExceptionType"] == json!("MXNotFoundException"));
        assert!(!fallback, "{method} {path} reached a fallback: {}", r.json);
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let responses = &doc["paths"][path][method]["responses"];
        assert!(
            responses.get(r.status.as_str()).is_some() || responses.get("default").is_some(),
            "{method} {path} answered {} which it does not document: {}",
            r.status,
            r.json
        );
    }
}
