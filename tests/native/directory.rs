//! Users, leads and accounts through the native API: happy paths, per-field validation (nothing
//! stored), roles (403) and tenant isolation (404).

use activity_hub::domain::Role;

use crate::harness::*;

#[tokio::test]
async fn users_create_list_and_roles() {
    let app = App::start().await;
    let admin = app.tenant("Users").await;
    let seller = app
        .user(&admin, "seller@users.example", Role::SalesUser)
        .await;

    let r = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "mgr@users.example", "first_name": "Meg", "last_name": "Ryan",
                   "role": "Sales_Manager"}),
        )
        .await;
    let mgr = App::data(r, StatusCode::CREATED);
    assert_eq!(mgr["role"], "Sales_Manager");
    assert_eq!(mgr["email"], "mgr@users.example");
    assert_eq!(mgr["active"], true);
    let key = s(&mgr, "api_key");
    assert!(key.starts_with("ak_") && key.len() == 67, "{key}");
    assert!(s(&mgr, "access_key").starts_with("u$r"));
    assert_eq!(s(&mgr, "secret_key").len(), 64);

    // The new key works, and its user sees the same tenant's users (without keys).
    let auth = format!("Bearer {key}");
    let r = app.raw("GET", "/api/v1/users", Some(&auth), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(data_len(&r), 3);
    let emails: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"seller@users.example"), "{emails:?}");
    assert!(
        r.json["data"][0]["api_key"].is_null(),
        "keys are shown once"
    );

    // Default role is Sales_User.
    let r = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "plain@users.example"}),
        )
        .await;
    assert_eq!(App::data(r, StatusCode::CREATED)["role"], "Sales_User");

    // Validation, each naming the field; nothing stored.
    for (body, status, code, needle) in [
        (
            json!({"email": "not-an-email"}),
            422,
            "validation_failed",
            "email",
        ),
        (
            json!({"email": "y@users.example", "last_name": "z".repeat(256)}),
            422,
            "validation_failed",
            "last_name",
        ),
        (
            json!({"email": "x@users.example", "role": "King"}),
            422,
            "validation_failed",
            "role",
        ),
        (
            json!({"first_name": "NoEmail"}),
            400,
            "invalid_request",
            "email",
        ),
        (json!({"email": 5}), 400, "invalid_request", "email"),
        (
            json!({"email": "mgr@users.example"}),
            409,
            "conflict",
            "mgr@users.example",
        ),
    ] {
        let r = app.post(&admin, "/api/v1/users", body.clone()).await;
        r.assert_error(StatusCode::from_u16(status).unwrap(), code, needle);
    }
    // A Sales_User and a Sales_Manager may not create users.
    let r = app
        .post(
            &seller,
            "/api/v1/users",
            json!({"email": "sneaky@users.example"}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Administrator");
    let r = app
        .raw(
            "POST",
            "/api/v1/users",
            Some(&auth),
            Some(
                json!({"email": "sneaky2@users.example"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Administrator");
    let r = app.get(&admin, "/api/v1/users").await;
    assert_eq!(data_len(&r), 4, "only the two valid creations were stored");
}

#[tokio::test]
async fn leads_create_get_list_delete() {
    let app = App::start().await;
    let admin = app.tenant("Leads").await;
    let seller = app.user(&admin, "s@leads.example", Role::SalesUser).await;
    let other_seller = app.user(&admin, "o@leads.example", Role::SalesUser).await;

    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                   "phone": "+44 20 7946 0000", "attributes": {"mx_City": "London"},
                   "owner_guid": seller.guid(), "do_not_email": true}),
        )
        .await;
    let ada = App::data(r, StatusCode::CREATED);
    assert_eq!(ada["first_name"], "Ada");
    assert_eq!(ada["owner_guid"], json!(seller.guid()));
    assert_eq!(ada["attributes"]["mx_City"], "London");
    assert_eq!(ada["do_not_call"], false);
    assert_eq!(ada["do_not_email"], true);
    // The same lead through LeadSquared's Leads.GetById.
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/LeadManagement.svc/Leads.GetById?id={}",
                s(&ada, "guid")
            ),
            None,
        )
        .await;
    let row = &r.json[0];
    assert_eq!(row["EmailAddress"], "ada@example.com", "{}", r.json);
    assert_eq!(row["mx_City"], "London");
    assert_eq!(row["DoNotEmail"], "1");
    assert_eq!(row["OwnerId"], json!(seller.guid()));
    assert!(ada["id"].is_i64());
    let ada_guid = s(&ada, "guid");

    // The seller's own lead; a Sales_User always owns what it creates.
    let r = app
        .post(
            &seller,
            "/api/v1/leads",
            json!({"first_name": "Bob", "owner_guid": other_seller.guid()}),
        )
        .await;
    let bob = App::data(r, StatusCode::CREATED);
    assert_eq!(bob["owner_guid"], json!(seller.guid()));
    let carol = app.lead(&admin, "Carol", "carol@example.com").await;

    let r = app.get(&admin, &format!("/api/v1/leads/{ada_guid}")).await;
    assert_eq!(App::data(r, StatusCode::OK)["email"], "ada@example.com");

    // Lists: the admin sees all three, the seller its two, the other seller none.
    assert_eq!(data_len(&app.get(&admin, "/api/v1/leads").await), 3);
    assert_eq!(data_len(&app.get(&seller, "/api/v1/leads").await), 2);
    assert_eq!(data_len(&app.get(&other_seller, "/api/v1/leads").await), 0);
    let r = app
        .get(&other_seller, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");

    // Paging by id cursor.
    let p1 = app.get(&admin, "/api/v1/leads?limit=2").await;
    assert_eq!(data_len(&p1), 2);
    let next = p1.json["next_after"].as_i64().expect("next_after");
    let p2 = app
        .get(&admin, &format!("/api/v1/leads?limit=2&after={next}"))
        .await;
    assert_eq!(data_len(&p2), 1);
    assert!(p2.json["next_after"].is_null());
    assert_eq!(p2.json["data"][0]["guid"], carol["guid"]);
    for q in ["limit=0", "limit=1001", "limit=x", "after=x"] {
        let r = app.get(&admin, &format!("/api/v1/leads?{q}")).await;
        let field = q.split('=').next().unwrap();
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", field);
    }

    // Validation per field; nothing stored.
    for (body, status, needle) in [
        (json!({"email": "nope"}), 422, "email"),
        (json!({"mobile": "123456"}), 422, "first_name"),
        (
            json!({"first_name": "X", "owner_guid": UNKNOWN}),
            422,
            "owner_guid",
        ),
        (
            json!({"first_name": "X", "owner_guid": "zzz"}),
            422,
            "owner_guid",
        ),
        (
            json!({"first_name": "X", "attributes": {"mx_A": 1}}),
            400,
            "attributes.mx_A",
        ),
        (
            json!({"first_name": "X", "attributes": {"OwnerId": "someone"}}),
            422,
            "attributes.OwnerId",
        ),
        (
            json!({"first_name": "X", "attributes": {"mx_Long": "y".repeat(4001)}}),
            422,
            "attributes.mx_Long",
        ),
        (json!({"first_name": "x".repeat(256)}), 422, "first_name"),
        (
            json!({"first_name": "X", "phone": "1".repeat(51)}),
            422,
            "phone",
        ),
        (
            json!({"first_name": "X", "do_not_call": "yes"}),
            400,
            "do_not_call",
        ),
        (
            json!({"first_name": "Dup", "email": "ADA@example.com"}),
            409,
            "email",
        ),
    ] {
        let r = app.post(&admin, "/api/v1/leads", body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.json);
        let msg = r.json["error"]["message"].as_str().unwrap().to_lowercase();
        assert!(
            msg.contains(&needle.to_lowercase())
                || msg.contains(&needle.replace('_', "").to_lowercase()),
            "{body}: message should name {needle}: {msg}"
        );
    }
    assert_eq!(data_len(&app.get(&admin, "/api/v1/leads").await), 3);

    // Delete: a Sales_User may not; unknown/invisible → 404; deleted → gone from lists and GET.
    let r = app
        .delete(&seller, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Sales_User");
    let r = app
        .delete(&admin, &format!("/api/v1/leads/{UNKNOWN}"))
        .await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");
    let r = app.delete(&admin, "/api/v1/leads/not-a-guid").await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");
    let r = app
        .delete(&admin, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    let r = app.get(&admin, &format!("/api/v1/leads/{ada_guid}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .delete(&admin, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a second delete finds nothing"
    );
    assert_eq!(data_len(&app.get(&admin, "/api/v1/leads").await), 2);
    assert_eq!(data_len(&app.get(&seller, "/api/v1/leads").await), 1);
    // LSQ no longer finds it either.
    let r = app
        .lsq(
            &admin,
            &format!("/v2/LeadManagement.svc/Leads.GetById?id={ada_guid}"),
            None,
        )
        .await;
    assert_eq!(r.json, json!([]), "{}", r.json);
}

#[tokio::test]
async fn accounts_create_and_list() {
    let app = App::start().await;
    let admin = app.tenant("Acc").await;
    let mgr = app.user(&admin, "m@acc.example", Role::SalesManager).await;
    let seller = app.user(&admin, "s@acc.example", Role::SalesUser).await;

    let r = app
        .post(
            &mgr,
            "/api/v1/accounts",
            json!({"name": " Acme Corp ", "domain": "acme.example", "owner_guid": seller.guid()}),
        )
        .await;
    let acme = App::data(r, StatusCode::CREATED);
    assert_eq!(acme["name"], "Acme Corp");
    assert_eq!(acme["domain"], "acme.example");
    assert_eq!(acme["owner_guid"], json!(seller.guid()));
    let globex = app.account(&admin, "Globex").await;
    assert!(globex["id"].as_i64() > acme["id"].as_i64());

    for (body, status, needle) in [
        (json!({"name": ""}), 422, "name"),
        (json!({"name": "x".repeat(256)}), 422, "name"),
        (
            json!({"name": "Y", "owner_guid": UNKNOWN}),
            422,
            "owner_guid",
        ),
        (
            json!({"name": "Z", "domain": "d".repeat(256)}),
            422,
            "domain",
        ),
        (json!({"domain": "no-name.example"}), 400, "name"),
        (json!({"name": "acme corp"}), 409, "acme corp"),
    ] {
        let r = app.post(&admin, "/api/v1/accounts", body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.json);
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{body}: {}",
            r.json
        );
    }
    let r = app
        .post(&seller, "/api/v1/accounts", json!({"name": "Mine"}))
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Sales_User");

    // Everyone lists the tenant's accounts (a Sales_User needs them to read account activity
    // names); paging by id.
    let r = app.get(&seller, "/api/v1/accounts").await;
    assert_eq!(data_len(&r), 2);
    let r = app.get(&admin, "/api/v1/accounts?limit=1").await;
    assert_eq!(data_len(&r), 1);
    let after = r.json["next_after"].as_i64().unwrap();
    let r = app
        .get(&admin, &format!("/api/v1/accounts?limit=1&after={after}"))
        .await;
    assert_eq!(r.json["data"][0]["guid"], globex["guid"]);
}

#[tokio::test]
async fn tenants_are_isolated() {
    let app = App::start().await;
    let a = app.tenant("Alpha").await;
    let b = app.tenant("Beta").await;
    let lead = app.lead(&a, "Al", "al@alpha.example").await;
    let account = app.account(&a, "Alpha Inc").await;
    let opp = app.opportunity(&a, &s(&lead, "guid"), "Alpha deal").await;
    let act = app
        .activity(
            &a,
            on_person(&s(&lead, "guid"), "call", "2026-01-01T00:00:00Z"),
        )
        .await;
    let r = app
        .post(&a, "/api/v1/activity_types", json!({"name": "Alpha Only"}))
        .await;
    let alpha_code = App::data(r, StatusCode::CREATED)["event_code"].clone();

    // Beta sees none of Alpha's records, by list or by id.
    for path in ["/api/v1/leads", "/api/v1/accounts"] {
        assert_eq!(data_len(&app.get(&b, path).await), 0, "{path}");
    }
    assert_eq!(app.get(&b, "/api/v1/opportunities").await.json["total"], 0);
    let users = app.get(&b, "/api/v1/users").await;
    assert_eq!(data_len(&users), 1);
    let types = App::data(app.get(&b, "/api/v1/activity_types").await, StatusCode::OK);
    assert!(!types
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "Alpha Only"));
    let act_id = act["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/leads/{}", s(&lead, "guid")),
        format!("/api/v1/activities/{act_id}"),
        format!("/api/v1/activities/{}", s(&act, "guid")),
        format!("/api/v1/activities/{}", s(&opp, "guid")),
    ] {
        app.get(&b, &path)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");
        app.delete(&b, &path).await.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "does not exist",
        );
    }
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v1/activities/{act_id}"),
            Some(json!({"note": "x"})),
        ),
        ("POST", format!("/api/v1/activities/{act_id}/pin"), None),
        ("DELETE", format!("/api/v1/activities/{act_id}/pin"), None),
        (
            "PUT",
            format!("/api/v1/activities/{act_id}/tags"),
            Some(json!({"tags": ["x"]})),
        ),
    ] {
        app.call(&b, method, &path, body).await.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "does not exist",
        );
    }
    // Beta cannot log on Alpha's lead, account, opportunity, nor use Alpha's type or owner.
    let lead_b = app.lead(&b, "Bo", "bo@beta.example").await;
    for (row, needle) in [
        (
            json!({"type": "call", "resource": {"type": "person", "id": lead["guid"]}}),
            "person",
        ),
        (
            json!({"type": "call", "resource": {"type": "account", "id": account["guid"]}}),
            "account",
        ),
        (
            json!({"type": "call", "resource": {"type": "crm_opportunity", "id": opp["guid"]}}),
            "crm_opportunity",
        ),
        (
            json!({"event_code": alpha_code, "resource": {"type": "person", "id": lead_b["guid"]}}),
            "event_code",
        ),
        (
            json!({"type": "call", "owner_guid": a.guid(),
                "resource": {"type": "person", "id": lead_b["guid"]}}),
            "owner",
        ),
    ] {
        let r = app
            .post(&b, "/api/v1/activities", json!({"activities": [row]}))
            .await;
        r.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            needle,
        );
    }
    let r = app
        .post(
            &b,
            "/api/v1/opportunities",
            json!({"lead_guid": lead["guid"]}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "lead_guid",
    );
    assert!(app.all_histories(&b).await.is_empty());
    // Alpha's records are untouched.
    let r = app.get(&a, &format!("/api/v1/activities/{act_id}")).await;
    assert_eq!(
        App::data(r, StatusCode::OK)["updated_at"],
        act["updated_at"]
    );
}
