//! `/openapi.json`: one OpenAPI 3.1 document of all three surfaces — LeadSquared and Salesloft
//! generated from their handlers and types (utoipa), the native API from its own document — with
//! the error answers each dialect's shared extractors give every call, and the security schemes.

use std::sync::LazyLock;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use crate::api::extract::MAX_BODY;

/// The native API's document (hand-kept: its bounds are checked by tests/native/openapi_bounds.rs).
const NATIVE: &str = include_str!("native/openapi.json");

/// The LeadSquared key pair, in the query string or in headers (either pair authenticates).
const LSQ_SECURITY: &str =
    r#"[{"lsqAccessKey":[],"lsqSecretKey":[]},{"lsqAccessKeyHeader":[],"lsqSecretKeyHeader":[]}]"#;

/// The document as served, built once; `Err` names what could not be merged (a bug, answered 500).
static DOCUMENT: LazyLock<Result<String, String>> =
    LazyLock::new(|| document().map(|d| d.to_string()));

/// `GET /openapi.json`
pub async fn serve() -> Response {
    match &*DOCUMENT {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response(),
        Err(why) => {
            tracing::error!(error = %why, "the OpenAPI document could not be built");
            crate::api::native::ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The API description could not be built; it has been logged",
            )
            .into_response()
        }
    }
}

/// The whole document.
pub fn document() -> Result<Value, String> {
    let mut generated = crate::api::lsq::ApiDoc::openapi();
    generated.merge(crate::api::salesloft::ApiDoc::openapi());
    generated.merge(crate::api::salesloft::streams::ApiDoc::openapi());
    generated.merge(crate::app::OpsDoc::openapi());
    let mut doc = serde_json::to_value(&generated).map_err(|e| e.to_string())?;
    let native: Value =
        serde_json::from_str(NATIVE).map_err(|e| format!("native document: {e}"))?;

    doc["info"] = json!({
        "title": "activity-hub",
        "version": env!("CARGO_PKG_VERSION"),
        "description": description(&native),
    });
    doc["tags"] = json!([
        {"name": "LeadSquared", "description": "LeadSquared's activity API (`/v2/*.svc/…`). Keys: `accessKey` and `secretKey` in the query string, or the headers `x-LSQ-AccessKey` and `x-LSQ-SecretKey`. Errors: `{\"Status\":\"Error\",\"ExceptionType\",\"ExceptionMessage\"}`. Numbers and booleans may be sent as strings. Budget: 25 calls per 5 seconds per access key."},
        {"name": "Salesloft", "description": "Salesloft's activity-history API, with `Authorization: Bearer <api_key>`. Errors: `{\"error\"}`, 422 `{\"errors\":{param:[messages]}}`. Budget: 600 cost per minute per team, stated on every answer in `x-ratelimit-endpoint-cost` and `x-ratelimit-remaining-minute`."},
        {"name": "Native", "description": "What the dialects cannot express, with `Authorization: Bearer <api_key>`. Errors: `{\"error\":{\"code\",\"message\"}}`."},
        {"name": "Operations", "description": "Health, readiness, metrics and this document; no credentials."},
    ]);
    shared_answers(&mut doc)?;
    refuse_nul_in_requests(&mut doc);
    merge_native(&mut doc, native)?;
    idempotency_keys(&mut doc);
    Ok(doc)
}

/// The native document's description, after a line on the other two surfaces.
fn description(native: &Value) -> String {
    format!(
        "A self-hosted CRM activity service speaking LeadSquared's and Salesloft's activity APIs over one store, plus its own native API. Each operation is tagged with its surface; each surface has its own credentials and error envelope (see the tags).\n\nNative API: {}",
        native["info"]["description"].as_str().unwrap_or_default()
    )
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn header_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/headers/{name}") })
}

/// An answer with a JSON body of `schema` and these headers.
fn answer(description: &str, schema: &str, headers: &[&str]) -> Value {
    let mut a = json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref(schema)}},
    });
    if !headers.is_empty() {
        let h: Map<String, Value> = headers
            .iter()
            .map(|name| (name.to_string(), header_ref(&name.replace('-', ""))))
            .collect();
        a["headers"] = Value::Object(h);
    }
    a
}

/// Adds to every LeadSquared and Salesloft operation the answers its dialect's shared extractors
/// give (auth, rate budgets, body limits, store faults), the operation's security, and the
/// headers and security schemes they use.
fn shared_answers(doc: &mut Value) -> Result<(), String> {
    let lsq_security: Value = serde_json::from_str(LSQ_SECURITY).map_err(|e| e.to_string())?;
    let Some(paths) = doc["paths"].as_object_mut() else {
        return Err("no paths were generated".into());
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            let tag = op["tags"][0].as_str().unwrap_or_default().to_string();
            let responses = op["responses"]
                .as_object_mut()
                .ok_or_else(|| format!("{method} {path} has no responses"))?;
            let mut add = |status: &str, a: Value| {
                responses.entry(status.to_string()).or_insert(a);
            };
            match tag.as_str() {
                "LeadSquared" => {
                    let e = "LsqError";
                    add("400", answer("Bad input: a query parameter or body value this call refuses, named in ExceptionMessage (MXInvalidInputException)", e, &[]));
                    add(
                        "401",
                        answer(
                            "accessKey/secretKey missing or wrong (MXUnAuthorizedException)",
                            e,
                            &[],
                        ),
                    );
                    if method == "post" {
                        add("408", answer("The body did not arrive within the body timeout; the connection closes", e, &[]));
                        add(
                            "413",
                            answer(&format!("The body is larger than {MAX_BODY} bytes"), e, &[]),
                        );
                    }
                    add("429", answer("25 calls per 5 s per access key spent, or this address sent 30 wrong key pairs within a minute (MXAPIRateLimitExceededException)", e, &["Retry-After"]));
                    add("500", answer("As LeadSquared answers a record-level refusal: a missing record (MXInvalidEntityException), a mandatory field missing (MXMandatoryAttributeMissingException), an invalid field value (MXInvalidActivityFieldsException), a duplicate (MXDuplicateEntryException); or an internal error", e, &[]));
                    add("503", answer("The store does not answer, or the server is receiving too many bodies (MXServiceUnavailableException)", e, &["Retry-After"]));
                    add(
                        "default",
                        answer("Any other error, in the same envelope", e, &[]),
                    );
                    op["security"] = lsq_security.clone();
                }
                "Salesloft" => {
                    let e = "SalesloftError";
                    add("401", answer("No Bearer token, or an invalid one", e, &[]));
                    if method == "post" || method == "put" {
                        add("408", answer("The body did not arrive within the body timeout; the connection closes", e, &[]));
                        add(
                            "413",
                            answer(&format!("The body is larger than {MAX_BODY} bytes"), e, &[]),
                        );
                    }
                    add("429", answer("The team's 600 cost per minute is spent, or this address sent 30 wrong keys within a minute", e, &["Retry-After"]));
                    add("500", answer("Internal error", e, &[]));
                    add(
                        "503",
                        answer("The store does not answer", e, &["Retry-After"]),
                    );
                    add("default", answer("Any other error", e, &[]));
                    // Every answer states the cost and what is left of the budget.
                    for (_, r) in responses.iter_mut() {
                        r["headers"]["x-ratelimit-endpoint-cost"] =
                            header_ref("SalesloftEndpointCost");
                        r["headers"]["x-ratelimit-remaining-minute"] =
                            header_ref("SalesloftRemainingMinute");
                    }
                    op["security"] = json!([{"bearer": []}]);
                }
                _ => {}
            }
        }
    }
    doc["components"]["headers"] = json!({
        "SalesloftEndpointCost": {"description": "What this call cost from the team's budget (1; deep pages more).", "schema": {"type": "integer", "minimum": 1}},
        "SalesloftRemainingMinute": {"description": "What is left of the team's 600 per minute after this call.", "schema": {"type": "integer", "minimum": 0}},
    });
    doc["components"]["securitySchemes"] = json!({
        "lsqAccessKey": {"type": "apiKey", "in": "query", "name": "accessKey", "description": "LeadSquared access key (with secretKey)."},
        "lsqSecretKey": {"type": "apiKey", "in": "query", "name": "secretKey", "description": "LeadSquared secret key (with accessKey)."},
        "lsqAccessKeyHeader": {"type": "apiKey", "in": "header", "name": "x-LSQ-AccessKey", "description": "LeadSquared access key as a header."},
        "lsqSecretKeyHeader": {"type": "apiKey", "in": "header", "name": "x-LSQ-SecretKey", "description": "LeadSquared secret key as a header."},
    });
    Ok(())
}

/// States the `Idempotency-Key` header (`api::idempotency`) on every LeadSquared and Salesloft
/// write, with the answers it adds in each envelope (a replayed answer is the documented answer
/// with `Idempotent-Replayed: true`, said in the parameter's description); the native document
/// states it on its own.
fn idempotency_keys(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| {
            ops.iter_mut()
                .filter(|(m, _)| matches!(m.as_str(), "post" | "put" | "patch" | "delete"))
                .map(|(_, op)| op)
        })
    {
        let e = match op["tags"][0].as_str() {
            Some("LeadSquared") => "LsqError",
            Some("Salesloft") => "SalesloftError",
            _ => continue,
        };
        let param = json!({"$ref": "#/components/parameters/IdempotencyKey"});
        match op["parameters"].as_array_mut() {
            Some(list) => list.push(param),
            None => op["parameters"] = json!([param]),
        }
        let Some(responses) = op["responses"].as_object_mut() else {
            continue;
        };
        let mut add = |status: &str, a: Value| {
            responses.entry(status.to_string()).or_insert(a);
        };
        add(
            "400",
            answer(
                "The Idempotency-Key header is not one key of 1-255 printable ASCII characters",
                e,
                &[],
            ),
        );
        add(
            "409",
            answer("Idempotency-Key: first used with a different request; or its first request is still running (Retry-After); or its answer was too large to keep", e, &["Retry-After"]),
        );
    }
}

/// What every string a LeadSquared or Salesloft request carries must match: a NUL anywhere in a
/// query value or a body (a property name included) is refused (`domain::text`).
const NO_NUL: &str = "^[^\\x00]*$";

/// The component of any JSON value holding no NUL.
const JSON_WITHOUT_NUL: &str = "JsonWithoutNul";

/// States the NUL rule on every request-side schema of the two dialects: the inline schemas of
/// their parameters and bodies and every component those reach. A string schema without a
/// `pattern`, `enum` or `format` of its own gets [`NO_NUL`], and every object its property names.
fn refuse_nul_in_requests(doc: &mut Value) {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        out.push(name.to_string());
                    }
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn constrain(v: &mut Value) {
        match v {
            Value::Object(m) => {
                let types: Vec<String> = match m.get("type") {
                    Some(Value::String(t)) => vec![t.clone()],
                    Some(Value::Array(ts)) => ts
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    _ => Vec::new(),
                };
                let free = !["pattern", "enum", "format"]
                    .iter()
                    .any(|k| m.contains_key(*k));
                if types.iter().any(|t| t == "string") && free {
                    m.insert("pattern".into(), json!(NO_NUL));
                }
                if types.iter().any(|t| t == "object") {
                    let names = m.entry("propertyNames").or_insert_with(|| json!({}));
                    names["pattern"] = json!(NO_NUL);
                    // Properties no schema names may hold any JSON, but no NUL in it.
                    m.entry("additionalProperties")
                        .or_insert_with(|| schema_ref(JSON_WITHOUT_NUL));
                }
                for (k, child) in m.iter_mut() {
                    if k != "propertyNames" {
                        constrain(child);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(constrain),
            _ => {}
        }
    }
    let mut reached = Vec::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for op in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|ops| ops.values_mut())
        {
            if !matches!(op["tags"][0].as_str(), Some("LeadSquared" | "Salesloft")) {
                continue;
            }
            for part in ["parameters", "requestBody"] {
                if let Some(v) = op.get_mut(part) {
                    refs(v, &mut reached);
                    constrain(v);
                }
            }
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    let any = schema_ref(JSON_WITHOUT_NUL);
    schemas[JSON_WITHOUT_NUL] = json!({
        "description": "Any JSON value with no NUL character in any string or property name.",
        "anyOf": [
            {"type": ["null", "boolean", "number"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": any},
            {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": any},
        ],
    });
    let mut done = std::collections::BTreeSet::from([JSON_WITHOUT_NUL.to_string()]);
    while let Some(name) = reached.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get_mut(&name) {
            refs(schema, &mut reached);
            constrain(schema);
        }
    }
}

/// Adds `from`'s entries to `into` (both JSON objects); a name both hold is an error, so no
/// surface's definition silently replaces another's.
fn merge_map(into: &mut Value, from: &Value, what: &str) -> Result<(), String> {
    let Some(from) = from.as_object() else {
        return Ok(());
    };
    if into.is_null() {
        *into = json!({});
    }
    let into = into
        .as_object_mut()
        .ok_or_else(|| format!("{what} is not an object"))?;
    if let Some(k) = from.keys().find(|k| into.contains_key(*k)) {
        return Err(format!("{what} '{k}' is defined twice"));
    }
    into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(())
}

/// Adds the native API's paths and components. Its operations keep their resource tags after
/// `Native` and get its Bearer security (the native document states it once, for all of them);
/// `/openapi.json` keeps its own (none) and is filed under Operations.
fn merge_native(doc: &mut Value, mut native: Value) -> Result<(), String> {
    let bearer = native["security"].clone();
    let Some(paths) = native["paths"].as_object_mut() else {
        return Err("the native document has no paths".into());
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in ops.iter_mut() {
            let mut tags = vec![json!(if path == "/openapi.json" {
                "Operations"
            } else {
                "Native"
            })];
            if let Some(own) = op["tags"].as_array() {
                tags.extend(own.iter().cloned());
            }
            op["tags"] = Value::Array(tags);
            if op.get("security").is_none() {
                op["security"] = bearer.clone();
            }
        }
    }
    merge_map(&mut doc["paths"], &native["paths"], "path")?;
    for part in [
        "schemas",
        "responses",
        "headers",
        "parameters",
        "securitySchemes",
    ] {
        merge_map(
            &mut doc["components"][part],
            &native["components"][part],
            part,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document builds, every `$ref` in it names a definition it holds, and each surface's
    /// operations carry their security.
    #[test]
    fn the_document_builds_and_its_references_resolve() {
        let doc = document().unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 100, "{}", all.len());
        for r in all {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "unresolved {r}");
        }
        let op = |p: &str, m: &str| doc["paths"][p][m].clone();
        assert_eq!(
            op("/v2/ProspectActivity.svc/Create", "post")["security"][0]["lsqAccessKey"],
            json!([])
        );
        assert_eq!(op("/v2/me", "get")["security"], json!([{"bearer": []}]));
        assert_eq!(
            op("/api/v1/leads", "get")["security"],
            json!([{"bearer": []}])
        );
        assert_eq!(op("/openapi.json", "get")["security"], json!([]));
        assert!(doc.get("security").is_none());
    }

    #[test]
    fn a_name_defined_twice_is_refused() {
        let mut into = json!({"A": 1});
        assert!(merge_map(&mut into, &json!({"B": 2}), "schemas").is_ok());
        let e = merge_map(&mut into, &json!({"A": 3}), "schemas").unwrap_err();
        assert!(e.contains("'A'"), "{e}");
        assert_eq!(into, json!({"A": 1, "B": 2}));
    }
}
