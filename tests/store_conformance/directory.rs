//! People (live leads), accounts and users listed alike on every backend: unique, increasing
//! `updated_at` from the tenant's clock (the Salesloft cursor walk), filters, orders, counts and
//! tenant isolation.

use std::collections::HashSet;

use activity_hub::domain::directory::{DirectoryKind, DirectoryQuery, DirectorySort};
use activity_hub::domain::{CountMode, LeadPatch, NewAccount, Role};
use uuid::Uuid;

use crate::fixtures::*;

fn account(name: &str, owner: i64) -> NewAccount {
    NewAccount {
        guid: Uuid::now_v7(),
        name: name.into(),
        domain: Some(format!("{}.example", name.to_lowercase())),
        owner_id: owner,
    }
}

#[tokio::test]
async fn directory_lists_alike_with_unique_updated_at() {
    for b in backends("directory").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let (other, other_admin) = tenant(s, "other").await;
        let seller = s
            .create_user(t.id, new_user("sel@acme.test", Role::SalesUser))
            .await
            .unwrap();
        // Leads made one by one and in a batch, an update and a deletion, interleaved with
        // accounts and users: every stamp comes from one clock.
        let l1 = s
            .create_lead(t.id, lead(admin.id, Some("1@x.test"), None))
            .await
            .unwrap();
        let batch = s
            .create_leads(
                t.id,
                vec![
                    lead(seller.id, Some("2@x.test"), None),
                    lead(admin.id, None, Some("+1 555 0003")),
                ],
            )
            .await
            .unwrap();
        let a1 = s
            .create_account(t.id, account("Zed", admin.id))
            .await
            .unwrap();
        let a2 = s
            .create_account(t.id, account("alpha", seller.id))
            .await
            .unwrap();
        let patch = LeadPatch {
            first_name: Some(Some("Changed".into())),
            ..Default::default()
        };
        s.update_lead(t.id, l1.id, patch).await.unwrap();
        let gone = s
            .create_lead(t.id, lead(admin.id, Some("4@x.test"), None))
            .await
            .unwrap();
        s.delete_lead(t.id, gone.id).await.unwrap();
        s.create_lead(other.id, lead(other_admin.id, Some("o@x.test"), None))
            .await
            .unwrap();
        s.create_account(other.id, account("Other", other_admin.id))
            .await
            .unwrap();

        let q = |kind| {
            let mut q = DirectoryQuery::new(t.id, kind);
            q.limit = 100;
            q.count = CountMode::Exact;
            q
        };
        // People: live leads of this tenant only, newest update first; the update moved l1 last.
        let people = s.people_page(&q(DirectoryKind::People)).await.unwrap();
        let ids: Vec<i64> = people.rows.iter().map(|l| l.id).collect();
        assert_eq!(ids, vec![l1.id, batch[1], batch[0]], "{}", b.name);
        assert_eq!(people.total, 3);
        let stamps: HashSet<i64> = people.rows.iter().map(|l| l.updated_at).collect();
        assert_eq!(stamps.len(), 3, "{}: updated_at unique", b.name);
        // Every stamp of the tenant (leads, accounts, users) is distinct.
        let accounts = s.accounts_page(&q(DirectoryKind::Accounts)).await.unwrap();
        let users = s.users_page(&q(DirectoryKind::Users)).await.unwrap();
        let mut all: Vec<i64> = people.rows.iter().map(|l| l.updated_at).collect();
        all.extend(accounts.rows.iter().map(|a| a.updated_at));
        all.extend(users.rows.iter().map(|u| u.updated_at));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "{}: a stamp shared", b.name);
        assert_eq!(
            accounts.rows.iter().map(|a| a.id).collect::<Vec<_>>(),
            vec![a2.id, a1.id]
        );
        assert_eq!(
            users.rows.iter().map(|u| u.user.id).collect::<Vec<_>>(),
            vec![seller.id, admin.id],
            "{}: users by id DESC",
            b.name
        );
        assert!(users.rows.iter().all(|u| u.created_at <= u.updated_at));

        // The cursor: strictly after l1's old stamp, ascending.
        let mut walk = q(DirectoryKind::People);
        walk.sort = DirectorySort::UpdatedAt;
        walk.descending = false;
        walk.updated_from = Some(batch_stamp(&people.rows, batch[1]) + 1);
        let after: Vec<i64> = s
            .people_page(&walk)
            .await
            .unwrap()
            .rows
            .iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(after, vec![l1.id], "{}", b.name);

        // Filters and other orders.
        let mut f = q(DirectoryKind::People);
        f.visible_to_owner = Some(seller.id);
        assert_eq!(s.people_page(&f).await.unwrap().rows.len(), 1);
        let mut f = q(DirectoryKind::People);
        f.emails = vec!["2@x.test".into()];
        f.email_is_null = true;
        f.sort = DirectorySort::CreatedAt;
        f.descending = false;
        let got: Vec<i64> = s
            .people_page(&f)
            .await
            .unwrap()
            .rows
            .iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(got, batch, "{}", b.name);
        let mut f = q(DirectoryKind::People);
        f.owner_ids = Some(vec![]);
        assert!(s.people_page(&f).await.unwrap().rows.is_empty());
        let mut f = q(DirectoryKind::Accounts);
        f.sort = DirectorySort::Name;
        f.descending = false;
        let names: Vec<String> = s
            .accounts_page(&f)
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(
            names,
            vec!["alpha", "Zed"],
            "{}: names case-insensitively",
            b.name
        );
        f.domains = vec!["zed.example".into()];
        assert_eq!(s.accounts_page(&f).await.unwrap().rows.len(), 1);
        let mut f = q(DirectoryKind::Users);
        f.roles = vec!["Sales_User".into()];
        f.active = Some(true);
        f.count = CountMode::Capped(1);
        let p = s.users_page(&f).await.unwrap();
        assert_eq!((p.total, p.rows.len()), (1, 1), "{}", b.name);
        let mut f = q(DirectoryKind::Users);
        f.ids = Some(vec![other_admin.id]);
        assert!(
            s.users_page(&f).await.unwrap().rows.is_empty(),
            "{}: isolation",
            b.name
        );
    }
}

fn batch_stamp(rows: &[activity_hub::domain::Lead], id: i64) -> i64 {
    rows.iter()
        .find(|l| l.id == id)
        .map(|l| l.updated_at)
        .expect("lead")
}
