//! The web UI's routes over real HTTP, as a browser without scripts uses them: sign-in and its
//! cookies, CSRF refusals that change nothing, what a Sales_User and another tenant see, the lead
//! page (pinned first, tags, custom fields, opportunity groups, filters, paging, field errors of
//! the post form) and the overview's chart numbers from the weekly aggregate.

use activity_hub::domain::Role;
use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};

use crate::harness::*;

/// A cookie-keeping client that does not follow redirects.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field: {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

impl Browser {
    fn new(app: &App) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = if cookie.is_empty() {
            req
        } else {
            req.header(COOKIE, cookie)
        };
        let r = req.send().await.expect("request");
        let page = Page {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        };
        for c in page.set_cookies() {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Signs in with `who`'s API key; asserts it worked.
    async fn sign_in(app: &App, who: &Who) -> Browser {
        let mut b = Browser::new(app);
        let form = b.get("/ui/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        let r = b
            .post("/ui/login", &[("csrf", &csrf), ("api_key", who.bearer())])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/ui/overview");
        b
    }

    /// The session's CSRF token, from a page's sign-out form.
    async fn csrf(&mut self) -> String {
        let p = self.get("/ui/overview").await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        p.csrf()
    }
}

/// A custom type with a mandatory Number field and a Dropdown; returns its event code.
async fn visit_type(app: &App, admin: &Who) -> i64 {
    let r = app
        .post(
            admin,
            "/api/v1/activity_types",
            json!({"name": "Site Visit", "salesloft_type": "meeting", "fields": [
                {"schema_name": "mx_Custom_1", "display_name": "Visitors", "data_type": "Number", "is_mandatory": true},
                {"schema_name": "mx_Custom_2", "display_name": "Outcome", "data_type": "Dropdown",
                 "options": ["Good", "Bad"]}]}),
        )
        .await;
    App::data(r, StatusCode::CREATED)["event_code"]
        .as_i64()
        .unwrap()
}

async fn lsq_count(app: &App, who: &Who, lead: &str) -> usize {
    lsq_ids(app, who, lead).await.len()
}

#[tokio::test]
async fn signing_in_and_out_and_the_cookies() {
    let app = App::start().await;
    let admin = app.tenant("WebAuth").await;
    let lead = app.lead(&admin, "Ada", "ada@web.example").await;
    let lead_page = format!("/ui/leads/{}", s(&lead, "guid"));
    let mut anon = Browser::new(&app);

    // Every page but the sign-in form sends a stranger there, and shows nothing.
    for path in ["/", "/ui", "/ui/overview", lead_page.as_str()] {
        let r = anon.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), "/ui/login", "{path}");
        assert!(!r.body.contains("Ada"), "{path}");
    }
    let r = anon
        .post(&format!("{lead_page}/activities"), &[("type", "101")])
        .await;
    assert_eq!(r.location(), "/ui/login");
    assert_eq!(lsq_count(&app, &admin, &s(&lead, "guid")).await, 0);

    // The sign-in form has its own CSRF token, in a cookie and the form alike.
    let form = anon.get("/ui/login").await;
    let login_cookie = form
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("ah_login="))
        .expect("sign-in cookie");
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));
    let csrf = form.csrf();
    let r = anon
        .post(
            "/ui/login",
            &[("csrf", "0000"), ("api_key", admin.bearer())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a wrong sign-in token");
    assert!(anon.cookies.iter().all(|(k, _)| k != "ah_session"));
    let csrf2 = r.csrf();
    assert_ne!(csrf, csrf2, "a refused form gets a fresh token");

    // A wrong key is refused, naming the field.
    let r = anon
        .post("/ui/login", &[("csrf", &csrf2), ("api_key", "ak_nope")])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body
            .contains("api_key: no active user holds this API key"),
        "{}",
        r.body
    );
    let r = anon.post("/ui/login", &[("csrf", &r.csrf())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("api_key is required"), "{}", r.body);

    // The right key: a session cookie, HttpOnly and SameSite=Strict, Secure only over TLS.
    let r = anon
        .post(
            "/ui/login",
            &[("csrf", &r.csrf()), ("api_key", admin.bearer())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("ah_session="))
        .expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(session.contains(attr), "{attr}: {session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let mut tls = Browser::new(&app);
    let form = tls.get("/ui/login").await;
    let req = tls
        .client
        .post(format!("{}/ui/login", tls.base))
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&api_key={}", form.csrf(), admin.bearer()));
    let r = tls.send(req).await;
    assert!(
        r.set_cookies()
            .iter()
            .any(|c| c.starts_with("ah_session=") && c.contains("; Secure")),
        "{:?}",
        r.set_cookies()
    );

    // Signed in: pages answer, with headers that keep them out of caches and frames.
    let r = anon.get("/").await;
    assert_eq!(r.location(), "/ui/overview");
    let r = anon.get(&lead_page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Ada"));
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));

    // Signing out needs the session's token; then the cookie opens nothing.
    let csrf = anon.csrf().await;
    let stale = anon.cookies.clone();
    let r = anon.post("/ui/logout", &[("csrf", "nope")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        anon.get("/ui/overview").await.status,
        StatusCode::OK,
        "still signed in"
    );
    let r = anon.post("/ui/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), "/ui/login");
    anon.cookies = stale;
    assert_eq!(anon.get("/ui/overview").await.location(), "/ui/login");

    // The UI is not part of the API document; unknown UI paths are an HTML 404.
    let doc = app.raw("GET", "/openapi.json", None, None).await.json;
    assert!(doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .all(|p| !p.starts_with("/ui") && p != "/"));
    let r = Browser::sign_in(&app, &admin).await.get("/ui/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("There is no such page"));
}

#[tokio::test]
async fn posting_needs_the_csrf_token_and_shows_field_errors_next_to_the_field() {
    let app = App::start().await;
    let admin = app.tenant("WebPost").await;
    let code = visit_type(&app, &admin).await;
    let lead = app.lead(&admin, "Bea", "bea@web.example").await;
    let guid = s(&lead, "guid");
    let action = format!("/ui/leads/{guid}/activities");
    let mut b = Browser::sign_in(&app, &admin).await;
    let code_s = code.to_string();

    // Without the token, or with another session's, nothing is stored.
    let other = Browser::sign_in(&app, &admin).await.csrf().await;
    for token in [None, Some("x"), Some(other.as_str())] {
        let mut form = vec![("type", code_s.as_str()), ("f.mx_Custom_1", "2")];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let r = b.post(&action, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(r.body.contains("CSRF token"), "{}", r.body);
    }
    assert_eq!(lsq_count(&app, &admin, &guid).await, 0);

    // The form of the chosen type shows its fields with display names and types.
    let page = b.get(&format!("/ui/leads/{guid}?new_type={code}")).await;
    assert!(page.body.contains("id=\"f-mx_Custom_1\""), "{}", page.body);
    assert!(page.body.contains("Visitors"));
    assert!(page.body.contains("(Number)"));
    assert!(page.body.contains("<option value=\"Good\">"));
    let csrf = b.csrf().await;

    // A bad value: 422, the service's message next to that field, the values kept, nothing stored.
    let r = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("type", &code_s),
                ("note", "first try"),
                ("f.mx_Custom_1", "lots"),
                ("f.mx_Custom_2", "Good"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let at = r
        .body
        .find("id=\"f-mx_Custom_1-error\"")
        .expect("field error");
    let field_at = r.body.find("id=\"f-mx_Custom_1\"").unwrap();
    assert!(
        at > field_at && at - field_at < 600,
        "the error follows its field"
    );
    assert!(r.body[at..].contains("mx_Custom_1"), "names the field");
    assert!(r.body.contains("value=\"lots\""));
    assert!(r.body.contains("first try"));
    assert_eq!(lsq_count(&app, &admin, &guid).await, 0);

    // A missing mandatory value is named too; a bad date in "when" is refused before the service.
    let r = b.post(&action, &[("csrf", &csrf), ("type", &code_s)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"f-mx_Custom_1-error\""), "{}", r.body);
    let r = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("type", &code_s),
                ("occurred", "soon"),
                ("f.mx_Custom_1", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("occurred must be a date and time"),
        "{}",
        r.body
    );
    let r = b
        .post(
            &action,
            &[("csrf", &csrf), ("type", "99999"), ("f.mx_Custom_1", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"type-error\""), "{}", r.body);
    assert_eq!(lsq_count(&app, &admin, &guid).await, 0);

    // The good value is stored, on the lead, as the API shows it.
    let r = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("type", &code_s),
                ("note", "second try"),
                ("occurred", "2026-03-04T05:06"),
                ("f.mx_Custom_1", "3"),
                ("f.mx_Custom_2", "Bad"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("/ui/leads/{guid}?posted=1"));
    let ids = lsq_ids(&app, &admin, &guid).await;
    assert_eq!(ids.len(), 1);
    let stored = App::data(
        app.get(&admin, &format!("/api/v1/activities/{}", ids[0]))
            .await,
        StatusCode::OK,
    );
    assert_eq!(stored["note"], "second try");
    assert_eq!(stored["occurred_at"], "2026-03-04T05:06:00.000000Z");
    assert_eq!(stored["fields"]["mx_Custom_2"], "Bad");
    let page = b.get(r.location()).await;
    assert!(page.body.contains("Activity posted."));
    assert!(page.body.contains("second try"));
}

#[tokio::test]
async fn the_lead_page_timeline() {
    let app = App::start().await;
    let admin = app.tenant("WebLead").await;
    let code = visit_type(&app, &admin).await;
    let lead = app.lead(&admin, "Cy", "cy@web.example").await;
    let guid = s(&lead, "guid");
    let opp = app.opportunity(&admin, &guid, "Big deal").await;
    let person = json!({"type": "person", "id": guid});
    let mut rows = Vec::new();
    for day in 1..=27 {
        rows.push(json!({"type": "call", "resource": person,
            "occurred_at": format!("2026-01-{day:02}T10:00:00Z"), "note": format!("call {day}")}));
    }
    rows.push(
        json!({"event_code": code, "type": "meeting", "resource": person,
        "occurred_at": "2026-02-01T10:00:00Z", "note": "the visit",
        "fields": {"mx_Custom_1": 4, "mx_Custom_2": "Good"}, "tags": ["hot", "q1"]}),
    );
    rows.push(json!({"type": "note", "resource": person, "pinned": true,
        "occurred_at": "2025-06-01T10:00:00Z", "note": "pinned long ago"}));
    rows.push(
        json!({"type": "note", "resource": {"type": "crm_opportunity", "id": opp["guid"]},
        "occurred_at": "2026-02-02T10:00:00Z", "note": "about the deal"}),
    );
    app.activities(&admin, rows).await;
    let mut b = Browser::sign_in(&app, &admin).await;

    let page = b.get(&format!("/ui/leads/{guid}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    // Pinned first, though it is the oldest; then newest first.
    let pinned = body.find("pinned long ago").expect("pinned shown");
    let deal = body.find("about the deal").expect("opportunity activity");
    let visit = body.find("the visit").unwrap();
    let newest_call = body.find("call 27").unwrap();
    assert!(
        pinned < deal && deal < visit && visit < newest_call,
        "order"
    );
    // The opportunity's activities sit under its heading.
    let heading = body.find("Opportunity: ").expect("opportunity group");
    assert!(heading < deal && body[heading..deal].contains("Big deal"));
    // Custom fields by display name and type, and tags.
    assert!(body.contains("Visitors") && body.contains("(Number)") && body.contains("<dd>4</dd>"));
    assert!(body.contains("<li class=\"tag\">hot</li>"));
    // 25 a page (the pinned one apart): the oldest calls are on the next page.
    assert_eq!(body.matches("class=\"activity\"").count(), 26);
    assert!(!body.contains("call 1<") && !body.contains("call 2<"));
    let more = format!("/ui/leads/{guid}?page=1");
    assert!(body.contains(&format!("href=\"{more}\"")));
    let next = b.get(&more).await;
    assert!(next.body.contains("call 1<") && next.body.contains("call 2<"));
    assert!(
        !next.body.contains("pinned long ago"),
        "pinned once, on the first page"
    );
    assert!(!next.body.contains("id=\"more\""));

    // Filters: type, date range, owner.
    let f = b.get(&format!("/ui/leads/{guid}?type={code}")).await;
    assert_eq!(f.body.matches("class=\"activity\"").count(), 1);
    assert!(f.body.contains("the visit"));
    let f = b
        .get(&format!("/ui/leads/{guid}?from=2026-01-10&to=2026-01-12"))
        .await;
    let notes: Vec<_> = ["call 9<", "call 10<", "call 11<", "call 12<", "call 13<"]
        .iter()
        .map(|n| f.body.contains(n))
        .collect();
    assert_eq!(
        notes,
        [false, true, true, true, false],
        "the range includes its last day"
    );
    let f = b
        .get(&format!("/ui/leads/{guid}?owner={}", admin.guid()))
        .await;
    assert!(f.body.contains("call 27"));
    let seller = app.user(&admin, "s@weblead.example", Role::SalesUser).await;
    let f = b
        .get(&format!("/ui/leads/{guid}?owner={}", seller.guid()))
        .await;
    assert!(f.body.contains("No activities match."), "{}", f.body);
    for (q, field) in [
        ("from=tomorrow", "from must be a date"),
        ("type=x", "type must be"),
    ] {
        let r = b.get(&format!("/ui/leads/{guid}?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.body.contains(field), "{q}: {}", r.body);
    }
}

#[tokio::test]
async fn a_sales_user_sees_its_own_leads_and_no_tenant_sees_another() {
    let app = App::start().await;
    let admin = app.tenant("WebSee").await;
    let seller = app
        .user(&admin, "sam@websee.example", Role::SalesUser)
        .await;
    let mine = App::data(
        app.post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "Mine", "email": "mine@websee.example", "owner_guid": seller.guid()}),
        )
        .await,
        StatusCode::CREATED,
    );
    let theirs = app.lead(&admin, "Theirs", "theirs@websee.example").await;
    for (l, n) in [(&mine, 2), (&theirs, 3)] {
        let rows = (0..n)
            .map(|i| {
                json!({"type": "call", "resource": {"type": "person", "id": l["guid"]},
                       "occurred_at": format!("2026-11-0{}T10:00:00Z", 2 + i)})
            })
            .collect();
        app.activities(&admin, rows).await;
    }
    let range = "/ui/overview?from=2026-11-02&to=2026-11-08";

    let mut sb = Browser::sign_in(&app, &seller).await;
    assert_eq!(
        sb.get(&format!("/ui/leads/{}", s(&mine, "guid")))
            .await
            .status,
        StatusCode::OK
    );
    let r = sb.get(&format!("/ui/leads/{}", s(&theirs, "guid"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("Theirs"));
    let ov = sb.get(range).await;
    assert!(ov.body.contains("Mine") && !ov.body.contains("Theirs"));
    assert!(
        ov.body.contains("data-total=\"2\""),
        "only its leads' activities: {}",
        ov.body
    );
    let search = sb.get("/ui/overview?q=the").await;
    assert!(!search.body.contains("Theirs"));
    let csrf = sb.csrf().await;
    let r = sb
        .post(
            &format!("/ui/leads/{}/activities", s(&theirs, "guid")),
            &[("csrf", &csrf), ("type", "101")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(lsq_count(&app, &admin, &s(&theirs, "guid")).await, 3);

    let mut ab = Browser::sign_in(&app, &admin).await;
    let ov = ab.get(range).await;
    assert!(ov.body.contains("data-total=\"5\""), "{}", ov.body);

    // Another tenant's administrator: every lead of this one is unknown.
    let stranger = app.tenant("WebElse").await;
    let mut xb = Browser::sign_in(&app, &stranger).await;
    let csrf = xb.csrf().await;
    for l in [&mine, &theirs] {
        let g = s(l, "guid");
        let r = xb.get(&format!("/ui/leads/{g}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = xb
            .post(
                &format!("/ui/leads/{g}/activities"),
                &[("csrf", &csrf), ("type", "101")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let ov = xb.get(range).await;
    assert!(ov.body.contains("data-total=\"0\"") && !ov.body.contains("Mine"));
    assert_eq!(lsq_count(&app, &admin, &s(&mine, "guid")).await, 2);
}

#[tokio::test]
async fn the_charts_follow_writes_through_the_weekly_aggregate() {
    let app = App::start().await;
    let admin = app.tenant("WebChart").await;
    let lead = app.lead(&admin, "Di", "di@webchart.example").await;
    let person = json!({"type": "person", "id": lead["guid"]});
    // Week of Monday 2026-10-05: 2 calls (one on the Sunday ending it) and a note; the next
    // week: 1 call.
    let stored = app
        .activities(
            &admin,
            vec![
                json!({"type": "call", "resource": person, "occurred_at": "2026-10-05T00:00:00Z"}),
                json!({"type": "call", "resource": person, "occurred_at": "2026-10-11T23:59:59Z"}),
                json!({"type": "note", "resource": person, "occurred_at": "2026-10-07T09:00:00Z"}),
                json!({"type": "call", "resource": person, "occurred_at": "2026-10-12T00:00:00Z"}),
            ],
        )
        .await;
    let mut b = Browser::sign_in(&app, &admin).await;
    let range = "/ui/overview?from=2026-10-05&to=2026-10-18";
    let cells = |body: &str, week: &str| -> Vec<String> {
        let at = body
            .find(&format!("<tr data-week=\"{week}\">"))
            .unwrap_or_else(|| panic!("row {week}: {body}"));
        let row = &body[at..at + body[at..].find("</tr>").unwrap()];
        row.split("<td")
            .skip(1)
            .map(|c| c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()].to_string())
            .collect()
    };
    let ov = b.get(range).await;
    assert_eq!(ov.status, StatusCode::OK);
    let heads_at = ov.body.find("<table id=\"weekly-table\"").unwrap();
    let head = &ov.body[heads_at..heads_at + ov.body[heads_at..].find("</thead>").unwrap()];
    let call_col = head.find(">Call<").expect("Call column");
    let note_col = head.find(">Note<").expect("Note column");
    assert!(call_col < note_col, "series sorted by name: {head}");
    assert_eq!(cells(&ov.body, "2026-10-05"), ["2", "1", "3"]);
    assert_eq!(cells(&ov.body, "2026-10-12"), ["1", "0", "1"]);
    assert!(ov.body.contains("<title>2026-10-05 — Call: 2</title>"));
    assert!(ov
        .body
        .contains("4 activities in the weeks from 2026-10-05 to 2026-10-12"));
    assert!(ov.body.contains("role=\"img\""));

    // A delete takes its count back (the aggregate is kept in the write's transaction).
    let id = stored[0]["id"].as_i64().unwrap();
    let r = app
        .delete(&admin, &format!("/api/v1/activities/{id}"))
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let ov = b.get(range).await;
    assert_eq!(cells(&ov.body, "2026-10-05"), ["1", "1", "2"]);

    // Ranges: a bad date or more than 53 weeks is named, and the default range is shown.
    for (q, msg) in [
        ("from=2026-13-01", "from must be a date"),
        ("from=2020-01-01&to=2026-01-01", "at most 53 weeks"),
        (
            "from=2026-02-01&to=2026-01-01",
            "to must not be before from",
        ),
    ] {
        let r = b.get(&format!("/ui/overview?{q}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(msg), "{q}: {}", r.body);
    }
}
