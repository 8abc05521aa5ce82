//! Paging: page numbers (`next_page`/`prev_page`, counts, `limit_paging_counts`) and the
//! `updated_at[gt]` cursor, walking sets larger than one page while other tasks keep writing.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::harness::*;

const T0: i64 = 1_700_000_000_000_000;

fn items(body: &Value) -> Vec<Value> {
    body["data"].as_array().expect("data array").clone()
}

fn text(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_string()
}

/// The number in `type-n`.
fn number(id: &str) -> i64 {
    id.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("bad id {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_numbers_walk_every_record_once_in_total_order() {
    let app = App::start(false).await;
    let admin = app.tenant("Pageco").await;
    let lead = app.lead(&admin, "Pat", "pat@example.com").await;
    let lid = lead["id"].as_i64().unwrap();
    // 103 records on 10 distinct times: pages cut through runs of equal occurred_at.
    let ids = app
        .seed(&admin, lid, "call", 103, |i| T0 + (i % 10) as i64)
        .await;

    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let body = app
            .histories(&admin, &format!("per_page=10&page={page}"))
            .await;
        let p = &body["metadata"]["paging"];
        assert_eq!(p["per_page"], json!(10));
        assert_eq!(p["current_page"], json!(page));
        assert_eq!(
            p["prev_page"],
            if page == 1 {
                Value::Null
            } else {
                json!(page - 1)
            }
        );
        assert!(
            p.get("total_count").is_none(),
            "counts only when asked: {p}"
        );
        let rows = items(&body);
        seen.extend(
            rows.iter()
                .map(|r| (text(r, "occurred_at"), number(&text(r, "id")))),
        );
        if page < 11 {
            assert_eq!(rows.len(), 10, "page {page}");
            assert_eq!(p["next_page"], json!(page + 1));
        } else {
            assert_eq!(rows.len(), 3);
            assert_eq!(p["next_page"], Value::Null, "the last page ends the walk");
            break;
        }
        page += 1;
    }
    // Every record exactly once, in (occurred_at, id) DESC order.
    let mut expected: Vec<(String, i64)> = seen.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        seen, expected,
        "total order: occurred_at then id, both DESC"
    );
    let got: HashSet<i64> = seen.iter().map(|(_, n)| *n).collect();
    assert_eq!(got.len(), 103);
    assert_eq!(got, ids.iter().copied().collect::<HashSet<_>>());

    // The same walk ascending is the exact reverse.
    let mut asc = Vec::new();
    for page in 1..=11 {
        let body = app
            .histories(
                &admin,
                &format!("per_page=10&page={page}&sort_direction=asc"),
            )
            .await;
        asc.extend(items(&body).iter().map(|r| number(&text(r, "id"))));
    }
    let desc: Vec<i64> = seen.iter().rev().map(|(_, n)| *n).collect();
    assert_eq!(asc, desc);

    // Past the end: no data, no next page.
    let body = app.histories(&admin, "per_page=10&page=12").await;
    assert!(items(&body).is_empty());
    assert_eq!(body["metadata"]["paging"]["next_page"], Value::Null);
    assert_eq!(body["metadata"]["paging"]["prev_page"], json!(11));
    let body = app.histories(&admin, "per_page=10&page=99999999").await;
    assert!(items(&body).is_empty());

    // Counts, exact and capped (the cap is far above 103), and with a filter.
    for q in [
        "per_page=10&include_paging_counts=true",
        "per_page=10&include_paging_counts=true&limit_paging_counts=true",
    ] {
        let p = app.histories(&admin, q).await["metadata"]["paging"].clone();
        assert_eq!(p["total_count"], json!(103), "{q}");
        assert_eq!(p["total_pages"], json!(11), "{q}");
    }
    let p = app
        .histories(&admin, "per_page=25&include_paging_counts=true&type=note")
        .await["metadata"]["paging"]
        .clone();
    assert_eq!(p["total_count"], json!(0));
    assert_eq!(p["total_pages"], json!(0));
    assert_eq!(p["next_page"], Value::Null);
    // limit_paging_counts alone adds nothing.
    let p = app.histories(&admin, "limit_paging_counts=true").await["metadata"]["paging"].clone();
    assert!(p.get("total_count").is_none(), "{p}");
    assert_eq!(p["per_page"], json!(25), "default page size");
    assert_eq!(p["current_page"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_paging_counts_caps_at_ten_thousand() {
    let app = App::start(false).await;
    let admin = app.tenant("Bigco").await;
    let lead = app.lead(&admin, "Bo", "bo@example.com").await;
    let lid = lead["id"].as_i64().unwrap();
    app.seed(&admin, lid, "call", 10_030, |i| T0 + i as i64)
        .await;
    app.seed(&admin, lid, "note", 20, |i| T0 + i as i64).await;

    let p = |q: &'static str| {
        let app = &app;
        let admin = &admin;
        async move { app.histories(admin, q).await["metadata"]["paging"].clone() }
    };
    let exact = p("per_page=100&include_paging_counts=true").await;
    assert_eq!(exact["total_count"], json!(10_050));
    assert_eq!(exact["total_pages"], json!(101));
    let capped = p("per_page=100&include_paging_counts=true&limit_paging_counts=true").await;
    assert_eq!(capped["total_count"], json!(10_000));
    assert_eq!(capped["total_pages"], json!(100));
    assert_eq!(capped["next_page"], json!(2));
    // Under the cap the capped count is exact.
    let notes = p("type=note&include_paging_counts=true&limit_paging_counts=TRUE").await;
    assert_eq!(notes["total_count"], json!(20));
    assert_eq!(notes["total_pages"], json!(1));
    // Paging still reaches past the capped count: page 101 holds the last 50.
    let body = app
        .histories(
            &admin,
            "per_page=100&page=101&include_paging_counts=true&limit_paging_counts=true",
        )
        .await;
    assert_eq!(items(&body).len(), 50);
    assert_eq!(body["metadata"]["paging"]["next_page"], Value::Null);
}

/// Three writers running until `stop`: two post native batches, one posts through the LSQ
/// dialect. Returns their join handles.
fn spawn_inserters(
    w: &Writer,
    lead_guid: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<usize>> {
    let mut handles = Vec::new();
    for t in 0..2 {
        let (w, lead, stop) = (w.clone(), lead_guid.to_string(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut made = 0;
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) && k < 40 {
                let rows: Vec<Value> = (0..(1 + k % 4))
                    .map(|_| {
                        on_person(
                            &lead,
                            if t == 0 { "call" } else { "note" },
                            "2030-01-01T00:00:00Z",
                        )
                    })
                    .collect();
                made += rows.len();
                let (s, b) = w
                    .send(
                        "POST",
                        "/api/v1/activities",
                        Some(json!({ "activities": rows })),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{b}");
                k += 1;
                tokio::task::yield_now().await;
            }
            made
        }));
    }
    let (w, lead, stop) = (w.clone(), lead_guid.to_string(), stop.clone());
    handles.push(tokio::spawn(async move {
        let mut made = 0;
        while !stop.load(Ordering::Relaxed) && made < 40 {
            let (s, b) = w
                .lsq_post(
                    "/v2/ProspectActivity.svc/Create",
                    json!({"RelatedProspectId": lead, "ActivityEvent": 103,
                           "ActivityNote": format!("lsq {made}")}),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            made += 1;
        }
        made
    }));
    handles
}

/// Every record of the tenant (id → updated_at), read after all writers stopped.
async fn everything(app: &App, who: &Who) -> HashMap<String, String> {
    let mut all = HashMap::new();
    let mut page = 1;
    loop {
        let body = app
            .histories(who, &format!("per_page=100&page={page}&sort_by=updated_at"))
            .await;
        for r in items(&body) {
            assert!(
                all.insert(text(&r, "id"), text(&r, "updated_at")).is_none(),
                "repeat in the final listing"
            );
        }
        if body["metadata"]["paging"]["next_page"].is_null() {
            return all;
        }
        page += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updated_at_cursor_sees_every_record_exactly_once_while_writes_continue() {
    let app = App::start(false).await;
    let admin = app.tenant("Cursorco").await;
    let lead = app.lead(&admin, "Cy", "cy@example.com").await;
    let lead_guid = lead["guid"].as_str().unwrap().to_string();
    app.seed(&admin, lead["id"].as_i64().unwrap(), "call", 60, |i| {
        T0 + i as i64
    })
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let writers = spawn_inserters(&Writer::of(&app, &admin), &lead_guid, &stop);

    // Page numbers over ascending updated_at during the writes: new records land after the
    // walk's position, so nothing shifts under it.
    let mut paged: Vec<(String, String)> = Vec::new();
    let mut page = 1;
    loop {
        let body = app
            .histories(
                &admin,
                &format!("sort_by=updated_at&sort_direction=asc&per_page=9&page={page}"),
            )
            .await;
        paged.extend(
            items(&body)
                .iter()
                .map(|r| (text(r, "id"), text(r, "updated_at"))),
        );
        if body["metadata"]["paging"]["next_page"].is_null() {
            break;
        }
        page += 1;
    }

    // The public sync client: ascending updated_at, strict `gt` on the largest value seen,
    // never `page`. It stops once the writers are done and a page comes back empty.
    let mut stream: Vec<(String, String)> = Vec::new();
    let mut last: Option<String> = None;
    let mut rounds = 0;
    loop {
        let mut q = "sort_by=updated_at&sort_direction=asc&per_page=7".to_string();
        if let Some(l) = &last {
            q.push_str(&format!("&updated_at[gt]={}", enc(l)));
        }
        // Checked before the read: a write that lands after it is found by the next round.
        let writers_done = writers.iter().all(|h| h.is_finished());
        let body = app.histories(&admin, &q).await;
        let rows = items(&body);
        for r in &rows {
            stream.push((text(r, "id"), text(r, "updated_at")));
        }
        if let Some(r) = rows.last() {
            last = Some(text(r, "updated_at"));
        }
        rounds += 1;
        if rows.is_empty() && writers_done {
            break;
        }
        if rows.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(rounds < 10_000, "the cursor walk does not end");
    }
    stop.store(true, Ordering::Relaxed);
    let mut made = 0;
    for h in writers {
        made += h.await.expect("writer");
    }

    // Strictly increasing updated_at over the whole stream: no record twice, no tie.
    for w in stream.windows(2) {
        assert!(
            w[0].1 < w[1].1,
            "not strictly increasing: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
    let ids: HashSet<&String> = stream.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), stream.len(), "a record was seen twice");
    let all = everything(&app, &admin).await;
    assert_eq!(all.len(), 60 + made, "every write landed");
    let seen: HashMap<String, String> = stream.into_iter().collect();
    assert_eq!(seen, all, "the cursor saw every record, each as it is now");
    assert!(
        rounds > 20,
        "the walk really interleaved with the writes ({rounds} pages)"
    );

    // Page numbers: no record twice, every seeded record, and nothing older than the last
    // record seen was skipped.
    let paged_ids: HashSet<&String> = paged.iter().map(|(id, _)| id).collect();
    assert_eq!(paged_ids.len(), paged.len(), "a page repeated a record");
    assert!(paged.len() >= 60, "{}", paged.len());
    let last_seen = paged.iter().map(|(_, u)| u.clone()).max().expect("pages");
    for (id, u) in &all {
        if *u <= last_seen {
            assert!(paged_ids.contains(id), "{id} ({u}) skipped by page numbers");
        }
    }
    for (id, u) in &paged {
        assert_eq!(all.get(id), Some(u), "inserts only: versions do not change");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cursor_follows_edits_while_writes_continue() {
    let app = App::start(false).await;
    let admin = app.tenant("Editco").await;
    let lead = app.lead(&admin, "Ed", "ed@example.com").await;
    let lead_guid = lead["guid"].as_str().unwrap().to_string();
    let seeded = app
        .seed(&admin, lead["id"].as_i64().unwrap(), "call", 50, |i| {
            T0 + i as i64
        })
        .await;
    // GUIDs of the seeded records, for the editor.
    let mut guids = Vec::new();
    for id in &seeded {
        let a = app
            .service
            .store()
            .activity_by_id(admin.user.tenant_id, *id)
            .await
            .expect("read")
            .expect("seeded row");
        guids.push(a.guid.to_string());
    }

    // The editor pins, tags and unpins seeded records while the cursor runs; it records which.
    let stop = Arc::new(AtomicBool::new(false));
    let edited = Arc::new(Mutex::new(HashSet::new()));
    let w = Writer::of(&app, &admin);
    let editor = {
        let (w, stop, edited, guids, seeded) = (
            w.clone(),
            stop.clone(),
            edited.clone(),
            guids.clone(),
            seeded.clone(),
        );
        tokio::spawn(async move {
            let mut k = 0usize;
            while !stop.load(Ordering::Relaxed) && k < 60 {
                let i = (k * 7) % guids.len();
                let g = &guids[i];
                let (s, b) = match k % 3 {
                    0 => {
                        w.send("POST", &format!("/api/v1/activities/{g}/pin"), None)
                            .await
                    }
                    1 => {
                        w.send(
                            "PUT",
                            &format!("/api/v1/activities/{g}/tags"),
                            Some(json!({"tags": [format!("t{k}")]})),
                        )
                        .await
                    }
                    _ => {
                        w.send("DELETE", &format!("/api/v1/activities/{g}/pin"), None)
                            .await
                    }
                };
                assert!(s.is_success(), "edit {k}: {s} {b}");
                if let Ok(mut e) = edited.lock() {
                    e.insert(format!("call-{}", seeded[i]));
                }
                k += 1;
                tokio::task::yield_now().await;
            }
        })
    };
    let inserters = spawn_inserters(&w, &lead_guid, &stop);

    // The cursor, until the writers are done and the feed is drained.
    let mut stream: Vec<(String, String)> = Vec::new();
    let mut last = String::from("1970-01-01T00:00:00.000000Z");
    loop {
        let done = editor.is_finished() && inserters.iter().all(|h| h.is_finished());
        let body = app
            .histories(
                &admin,
                &format!(
                    "sort_by=updated_at&sort_direction=ASC&per_page=11&updated_at[gt]={}",
                    enc(&last)
                ),
            )
            .await;
        let rows = items(&body);
        for r in &rows {
            stream.push((text(r, "id"), text(r, "updated_at")));
        }
        if let Some(r) = rows.last() {
            last = text(r, "updated_at");
        }
        if rows.is_empty() && done {
            break;
        }
        if rows.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    editor.await.expect("editor");
    for h in inserters {
        h.await.expect("inserter");
    }
    let all = everything(&app, &admin).await;
    let edited = edited.lock().map(|e| e.clone()).unwrap_or_default();
    assert!(!edited.is_empty());

    // Cursor: each version once, in strictly increasing updated_at; every record's current
    // version seen; records nobody edited seen exactly once.
    for w in stream.windows(2) {
        assert!(w[0].1 < w[1].1, "{:?} then {:?}", w[0], w[1]);
    }
    let mut latest: HashMap<String, String> = HashMap::new();
    let mut times: HashMap<String, usize> = HashMap::new();
    for (id, u) in &stream {
        latest.insert(id.clone(), u.clone());
        *times.entry(id.clone()).or_default() += 1;
    }
    assert_eq!(
        latest, all,
        "the cursor ends with every record's current version"
    );
    for (id, n) in &times {
        assert!(
            *n == 1 || edited.contains(id),
            "{id} seen {n} times but never edited"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_at_and_updated_at_are_unique_and_increasing_per_tenant() {
    let app = App::start(false).await;
    let admin = app.tenant("Clockco").await;
    let other = app.tenant("Otherco").await;
    let lead = app.lead(&admin, "Cl", "cl@example.com").await;
    let lg = lead["guid"].as_str().unwrap().to_string();
    // One batch of 30 in one transaction, within the same microseconds: still 30 distinct stamps.
    let batch: Vec<Value> = (0..30)
        .map(|_| on_person(&lg, "call", "2024-01-01T00:00:00Z"))
        .collect();
    let made = app.activities(&admin, batch).await;
    let mut created: Vec<String> = made.iter().map(|a| text(a, "created_at")).collect();
    let updated: Vec<String> = made.iter().map(|a| text(a, "updated_at")).collect();
    for w in created.windows(2) {
        assert!(
            w[0] < w[1],
            "created_at strictly increasing within a batch: {w:?}"
        );
    }
    for w in updated.windows(2) {
        assert!(
            w[0] < w[1],
            "updated_at strictly increasing within a batch: {w:?}"
        );
    }
    // An edit moves updated_at past everything before it, and leaves created_at.
    let g = text(&made[0], "guid");
    let r = app
        .call(&admin, "POST", &format!("/api/v1/activities/{g}/pin"), None)
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let h = app
        .histories(&admin, &format!("id={}", text(&made[0], "salesloft_id")))
        .await;
    let edited = &items(&h)[0];
    assert!(text(edited, "updated_at") > updated[29]);
    assert_eq!(text(edited, "created_at"), created[0]);
    // Another tenant's writes do not disturb this tenant's order (each tenant has its clock).
    let ol = app.lead(&other, "Ot", "ot@example.com").await;
    app.activities(
        &other,
        vec![on_person(
            ol["guid"].as_str().unwrap(),
            "call",
            "2024-01-01T00:00:00Z",
        )],
    )
    .await;
    let later = app
        .activities(&admin, vec![on_person(&lg, "note", "2024-01-01T00:00:00Z")])
        .await;
    created.push(text(&later[0], "created_at"));
    let unique: HashSet<&String> = created.iter().collect();
    assert_eq!(unique.len(), created.len());
    assert!(text(&later[0], "updated_at") > text(edited, "updated_at"));
}
