//! Every filter alone and combined, against a small data set whose answers are known.

use crate::harness::*;
use activity_hub::domain::Role;

/// The fixture: two leads (one owned by a Sales_User), an account, an opportunity and six
/// activities of known types, times, owners and resources.
pub struct Fixture {
    pub app: App,
    pub admin: Who,
    pub seller: Who,
    pub manager: Who,
    pub lead1: Value,
    pub lead2: Value,
    pub account: Value,
    pub opp: Value,
    /// a1..a6 as returned by the native API.
    pub acts: Vec<Value>,
}

impl Fixture {
    pub fn sl(&self, i: usize) -> String {
        self.acts[i]["salesloft_id"]
            .as_str()
            .expect("salesloft_id")
            .to_string()
    }

    pub fn opp_sl(&self) -> String {
        self.opp["salesloft_id"]
            .as_str()
            .expect("opp id")
            .to_string()
    }
}

pub async fn fixture() -> Fixture {
    let app = App::start(false).await;
    let admin = app.tenant("Acme").await;
    let seller = app.user(&admin, "sam@acme.example", Role::SalesUser).await;
    let manager = app
        .user(&admin, "max@acme.example", Role::SalesManager)
        .await;
    let lead1 = app.lead(&seller, "Lena", "lena@example.com").await;
    let lead2 = app.lead(&admin, "Omar", "omar@example.com").await;
    let account = app.account(&admin, "Globex").await;
    let l1 = lead1["guid"].as_str().unwrap().to_string();
    let l2 = lead2["guid"].as_str().unwrap().to_string();
    let opp = app.opportunity(&admin, &l2, "Big renewal").await;
    let o = opp["guid"].as_str().unwrap().to_string();
    let ac = account["guid"].as_str().unwrap().to_string();
    let mut acts = app
        .activities(
            &seller,
            vec![on_person(&l1, "call", "2024-01-01T00:00:00Z")],
        )
        .await;
    let mut pinned = on_person(&l1, "note", "2024-01-02T00:00:00.000001Z");
    pinned["pinned"] = json!(true);
    pinned["tags"] = json!(["vip"]);
    let mut on_mgr = on_person(&l2, "call", "2024-01-06T00:00:00Z");
    on_mgr["owner_guid"] = json!(manager.user.guid);
    acts.extend(
        app.activities(
            &admin,
            vec![
                pinned,
                on_person(&l2, "sent_email", "2024-01-03T00:00:00Z"),
                json!({"type": "meeting", "resource": {"type": "account", "id": ac}, "occurred_at": "2024-01-04T00:00:00Z"}),
                json!({"type": "call", "resource": {"type": "crm_opportunity", "id": o}, "occurred_at": "2024-01-05T00:00:00Z"}),
                on_mgr,
            ],
        )
        .await,
    );
    Fixture {
        app,
        admin,
        seller,
        manager,
        lead1,
        lead2,
        account,
        opp,
        acts,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_alone() {
    let f = fixture().await;
    let (app, a) = (&f.app, &f.admin);
    let all = app.ids(a, "per_page=100").await;
    assert_eq!(all.len(), 7, "six activities and the opportunity: {all:?}");
    // Default order: occurred_at DESC (the opportunity happened now, so it comes first).
    assert_eq!(all[0], f.opp_sl());
    assert_eq!(
        &all[1..],
        &[f.sl(5), f.sl(4), f.sl(3), f.sl(2), f.sl(1), f.sl(0)]
    );

    // type, its three array forms and the per-resource form
    let calls = sorted(vec![f.sl(0), f.sl(4), f.sl(5)]);
    assert_eq!(sorted(app.ids(a, "type=call").await), calls);
    let call_note = sorted(vec![f.sl(0), f.sl(1), f.sl(4), f.sl(5)]);
    for q in [
        "type[]=call&type[]=note",
        "type=call&type=note",
        "type=call,note",
    ] {
        assert_eq!(sorted(app.ids(a, q).await), call_note, "{q}");
    }
    assert_eq!(
        sorted(
            app.ids(a, "type[person][]=call&type[account][]=meeting")
                .await
        ),
        sorted(vec![f.sl(0), f.sl(3), f.sl(5)])
    );
    assert_eq!(
        app.ids(a, "type[crm_opportunity][]=call").await,
        vec![f.sl(4)]
    );

    // occurred_at bounds, microsecond precision
    let t = enc("2024-01-02T00:00:00.000001Z");
    assert_eq!(
        app.ids(a, &format!("occurred_at[lt]={t}")).await,
        vec![f.sl(0)]
    );
    assert_eq!(
        app.ids(a, &format!("occurred_at[lte]={t}&sort_direction=asc"))
            .await,
        vec![f.sl(0), f.sl(1)]
    );
    assert_eq!(
        app.ids(
            a,
            &format!(
                "occurred_at[gte]={t}&occurred_at[lt]=2024-01-04T00:00:00Z&sort_direction=ASC"
            )
        )
        .await,
        vec![f.sl(1), f.sl(2)]
    );
    assert_eq!(
        app.ids(
            a,
            &format!("occurred_at[gt]={t}&occurred_at[lte]=2024-01-03T00:00:00Z")
        )
        .await,
        vec![f.sl(2)]
    );

    // updated_at bounds: the batch of five was written after a1, in order
    let u0 = f.acts[0]["updated_at"].as_str().unwrap();
    let u2 = f.acts[2]["updated_at"].as_str().unwrap();
    assert_eq!(
        app.ids(
            a,
            &format!(
                "updated_at[gt]={}&updated_at[lte]={}&sort_by=updated_at&sort_direction=asc",
                enc(u0),
                enc(u2)
            )
        )
        .await,
        vec![f.sl(1), f.sl(2)]
    );
    assert_eq!(
        app.ids(a, &format!("updated_at[lt]={}&sort_by=updated_at", enc(u0)))
            .await,
        vec![f.opp_sl()],
        "only the opportunity was written before a1"
    );

    // pinned
    assert_eq!(app.ids(a, "pinned=true").await, vec![f.sl(1)]);
    assert_eq!(app.ids(a, "pinned=false").await.len(), 6);

    // resource_type (single, array, comma) and resource_id
    assert_eq!(
        sorted(app.ids(a, "resource_type=person").await),
        sorted(vec![f.sl(0), f.sl(1), f.sl(2), f.sl(5)])
    );
    assert_eq!(app.ids(a, "resource_type=account").await, vec![f.sl(3)]);
    assert_eq!(
        sorted(
            app.ids(a, "resource_type[]=account&resource_type[]=crm_opportunity")
                .await
        ),
        sorted(vec![f.sl(3), f.sl(4), f.opp_sl()])
    );
    assert_eq!(
        sorted(app.ids(a, "resource_type=account,crm_opportunity").await),
        sorted(vec![f.sl(3), f.sl(4), f.opp_sl()])
    );
    let lid1 = f.lead1["id"].as_i64().unwrap();
    let lid2 = f.lead2["id"].as_i64().unwrap();
    assert_eq!(
        sorted(
            app.ids(a, &format!("resource_type=person&resource_id={lid1}"))
                .await
        ),
        sorted(vec![f.sl(0), f.sl(1)])
    );
    for q in [
        format!("resource_type=person&resource_id={lid1},{lid2}"),
        format!("resource_type=person&resource_id[]={lid1}&resource_id[]={lid2}"),
        format!("resource_type=person&resource_id={lid1}&resource_id={lid2}"),
    ] {
        assert_eq!(app.ids(a, &q).await.len(), 4, "{q}");
    }
    let oguid = f.opp["guid"].as_str().unwrap();
    assert_eq!(
        sorted(
            app.ids(
                a,
                &format!("resource_type=crm_opportunity&resource_id={oguid}")
            )
            .await
        ),
        sorted(vec![f.sl(4), f.opp_sl()])
    );
    let acid = f.account["id"].as_i64().unwrap();
    assert_eq!(
        app.ids(a, &format!("resource_type=account&resource_id={acid}"))
            .await,
        vec![f.sl(3)]
    );
    assert!(app
        .ids(a, "resource_type=account&resource_id=999999")
        .await
        .is_empty());

    // id / ids: typed, bare, arrays; a wrong type prefix or unknown id is simply not returned
    let n0 = f.acts[0]["id"].as_i64().unwrap();
    assert_eq!(app.ids(a, &format!("id={}", f.sl(0))).await, vec![f.sl(0)]);
    assert_eq!(app.ids(a, &format!("ids={n0}")).await, vec![f.sl(0)]);
    assert_eq!(
        sorted(
            app.ids(a, &format!("ids[]={}&ids[]={}", f.sl(0), f.sl(2)))
                .await
        ),
        sorted(vec![f.sl(0), f.sl(2)])
    );
    assert!(app.ids(a, &format!("id=note-{n0}")).await.is_empty());
    assert!(app.ids(a, "id=999999").await.is_empty());

    // user_guid
    let sg = f.seller.user.guid.to_string();
    let mg = f.manager.user.guid.to_string();
    assert_eq!(app.ids(a, &format!("user_guid={sg}")).await, vec![f.sl(0)]);
    assert_eq!(
        sorted(
            app.ids(a, &format!("user_guid[]={sg}&user_guid[]={mg}"))
                .await
        ),
        sorted(vec![f.sl(0), f.sl(5)])
    );
    assert!(app
        .ids(a, "user_guid=00000000-0000-0000-0000-000000000000")
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_combined_and_echoed() {
    let f = fixture().await;
    let (app, a) = (&f.app, &f.admin);
    let lid2 = f.lead2["id"].as_i64().unwrap();
    let q = format!(
        "type=call&resource_type=person&resource_id={lid2}&occurred_at[gte]=2024-01-01T00:00:00Z&pinned=false&user_guid={}",
        f.manager.user.guid
    );
    let body = app.histories(a, &q).await;
    assert_eq!(ids_of(&body), vec![f.sl(5)]);
    let filtering = &body["metadata"]["filtering"];
    assert_eq!(filtering["type"], json!(["call"]));
    assert_eq!(filtering["resource_type"], json!(["person"]));
    assert_eq!(filtering["pinned"], json!(false));
    assert_eq!(
        filtering["occurred_at"]["gte"],
        json!("2024-01-01T00:00:00Z")
    );

    // Same filters, but a type that no row of that lead has.
    let q = format!("type=note&resource_type=person&resource_id={lid2}");
    assert!(app.ids(a, &q).await.is_empty());

    // Pinned notes of person resources after a bound, sorted by updated_at ascending.
    let q = "type=note,call&resource_type=person&pinned=true&occurred_at[gt]=2024-01-01T00:00:00Z&sort_by=updated_at&sort_direction=Asc";
    let body = app.histories(a, q).await;
    assert_eq!(ids_of(&body), vec![f.sl(1)]);
    assert_eq!(
        body["metadata"]["sorting"],
        json!({"sort_by": "updated_at", "sort_direction": "ASC"})
    );

    // The `sort` alias and unknown parameter names.
    let body = app
        .histories(a, "sort=updated_at&sort_direction=desc&foo=bar&type[]=call")
        .await;
    assert_eq!(ids_of(&body), vec![f.sl(5), f.sl(4), f.sl(0)]);
    assert_eq!(body["metadata"]["sorting"]["sort_by"], json!("updated_at"));
}
