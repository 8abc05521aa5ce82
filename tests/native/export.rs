//! `GET /api/v1/export`: the streamed NDJSON export — complete, ordered by `updated_at`, resumable
//! with `updated_after`, visibility and tenant scoped, and consistent while writes interleave.

use activity_hub::domain::Role;

use crate::harness::*;

/// The export as parsed lines, with the response's status and content type.
async fn export(app: &App, who: &Who, query: &str) -> (StatusCode, String, Vec<Value>) {
    let r = app
        .client
        .get(format!("{}/api/v1/export?{query}", app.base))
        .bearer_auth(who.bearer())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = r.text().await.unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l}: {e}")))
        .collect();
    (status, ctype, lines)
}

fn stamps(lines: &[Value]) -> Vec<String> {
    lines.iter().map(|l| s(l, "updated_at")).collect()
}

/// `n` call activities on `lead`, in batches of 100.
async fn seed(app: &App, who: &Who, lead: &str, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut left = n;
    while left > 0 {
        let k = left.min(100);
        let rows = (0..k)
            .map(|i| on_person(lead, "call", &format!("2026-01-01T00:00:{:02}Z", i % 60)))
            .collect();
        out.extend(app.activities(who, rows).await);
        left -= k;
    }
    out
}

#[tokio::test]
async fn export_streams_everything_in_updated_order_and_resumes() {
    let app = App::start().await;
    let admin = app.tenant("Exp").await;
    let other = app.tenant("Other").await;
    let seller = app.user(&admin, "s@exp.example", Role::SalesUser).await;
    let lead = app.lead(&admin, "Ex", "ex@example.com").await;
    let mine = app.lead(&seller, "Mine", "mine@example.com").await;
    let opp = app.opportunity(&admin, &s(&lead, "guid"), "deal").await;
    let made = seed(&app, &admin, &s(&lead, "guid"), 1150).await;
    let sellers = seed(&app, &seller, &s(&mine, "guid"), 3).await;
    let other_lead = app.lead(&other, "Ot", "ot@example.com").await;
    seed(&app, &other, &s(&other_lead, "guid"), 2).await;
    // One deleted activity is not exported.
    let gone = &made[10];
    let r = app
        .delete(&admin, &format!("/api/v1/activities/{}", gone["id"]))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let (status, ctype, lines) = export(&app, &admin, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/x-ndjson");
    assert_eq!(
        lines.len(),
        1150 - 1 + 3 + 1,
        "activities, the seller's and the opportunity"
    );
    let st = stamps(&lines);
    assert!(
        st.windows(2).all(|w| w[0] < w[1]),
        "strictly ascending updated_at"
    );
    let guids: std::collections::HashSet<String> = lines.iter().map(|l| s(l, "guid")).collect();
    assert_eq!(guids.len(), lines.len(), "no repeats");
    assert!(guids.contains(&s(&opp, "guid")));
    assert!(!guids.contains(&s(gone, "guid")));
    assert!(guids.contains(&s(&sellers[2], "guid")));
    assert_eq!(lines[5]["resource"]["type"], "person", "{}", lines[5]);

    // The seller exports only what is on its leads; the other tenant only its own.
    let (_, _, theirs) = export(&app, &seller, "").await;
    assert_eq!(
        theirs.iter().map(|l| s(l, "guid")).collect::<Vec<_>>(),
        sellers.iter().map(|l| s(l, "guid")).collect::<Vec<_>>()
    );
    let (_, _, others) = export(&app, &other, "").await;
    assert_eq!(others.len(), 2);

    // Resuming after a line gives exactly what follows it, then changes made since.
    let cut = &st[700];
    let (_, _, rest) = export(&app, &admin, &format!("updated_after={cut}")).await;
    assert_eq!(stamps(&rest), st[701..].to_vec());
    let first = &lines[0];
    let r = app
        .call(
            &admin,
            "PUT",
            &format!("/api/v1/activities/{}/tags", first["id"]),
            Some(json!({"tags": ["exported"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let last = st.last().unwrap();
    let (_, _, delta) = export(&app, &admin, &format!("updated_after={last}")).await;
    assert_eq!(delta.len(), 1, "{delta:?}");
    assert_eq!(delta[0]["guid"], first["guid"]);
    assert_eq!(delta[0]["tags"], json!(["exported"]));

    // Errors.
    let r = app
        .get(&admin, "/api/v1/export?updated_after=yesterday")
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "updated_after");
    let r = app.raw("GET", "/api/v1/export", None, None).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "unauthorized", "Bearer");
}

#[tokio::test]
async fn writes_during_an_export_are_not_lost() {
    let app = std::sync::Arc::new(App::start().await);
    let admin = app.tenant("Live").await;
    let lead = app.lead(&admin, "Li", "li@example.com").await;
    let made = seed(&app, &admin, &s(&lead, "guid"), 1200).await;

    // A writer edits rows (moving them to the end of the updated_at order) and adds new ones
    // while exports run; whatever the interleaving, each export must hold every record that
    // existed when it started, in strictly ascending updated_at, and the last appearance of each
    // record it holds must be that record's state as of the export's last line.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (app, admin, stop) = (app.clone(), admin.clone(), stop.clone());
        let ids: Vec<Value> = made.iter().map(|a| a["id"].clone()).collect();
        let lead_guid = s(&lead, "guid");
        tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let id = &ids[(n * 7919) % ids.len()];
                let r = app
                    .call(
                        &admin,
                        "PUT",
                        &format!("/api/v1/activities/{id}/tags"),
                        Some(json!({"tags": [format!("w{n}")]})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.json);
                if n.is_multiple_of(5) {
                    app.activities(
                        &admin,
                        vec![on_person(&lead_guid, "note", "2026-02-01T00:00:00Z")],
                    )
                    .await;
                }
                n += 1;
            }
            n
        })
    };
    let mut exports = Vec::new();
    for _ in 0..3 {
        // No one deletes: every record of the previous export is there at this one's start.
        let before: std::collections::HashSet<String> = export(&app, &admin, "")
            .await
            .2
            .iter()
            .map(|l| s(l, "guid"))
            .collect();
        let (_, _, lines) = export(&app, &admin, "").await;
        exports.push((before, lines));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes = writer.await.unwrap();
    assert!(writes > 0, "the writer ran");

    let (_, _, now) = export(&app, &admin, "").await;
    let current: std::collections::HashMap<String, Value> =
        now.iter().map(|l| (s(l, "guid"), l.clone())).collect();
    for (before, lines) in exports {
        let st = stamps(&lines);
        assert!(st.windows(2).all(|w| w[0] < w[1]), "strictly ascending");
        let end = st.last().unwrap().clone();
        let mut last: std::collections::HashMap<String, &Value> = Default::default();
        for l in &lines {
            last.insert(s(l, "guid"), l);
        }
        for guid in &before {
            assert!(
                last.contains_key(guid),
                "{guid} existed at the start but is missing"
            );
        }
        for a in &made {
            assert!(last.contains_key(&s(a, "guid")), "missing {}", a["id"]);
        }
        for (guid, l) in &last {
            let cur = &current[guid];
            if s(cur, "updated_at") <= end {
                assert_eq!(
                    *l, cur,
                    "the last line of {guid} is its state as of the export's end"
                );
            }
        }
    }
}
